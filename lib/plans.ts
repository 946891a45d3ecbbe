// Plan defaults: what a new organization on each plan gets. Each limit can be changed per
// organization afterwards; these are only the starting values.
import { PLANS, type Plan } from "@/lib/validation/rules";

export { PLANS, type Plan };

export interface PlanLimits {
  /** Requests per minute per key, unless the key has its own limit. */
  rateLimitPerMinute: number;
  /** Requests per calendar month (UTC) per organization. */
  monthlyQuota: number;
  /** Keys in status ACTIVE at once. */
  maxActiveKeys: number;
  /** Days usage records are kept before deletion. */
  usageRetentionDays: number;
}

export const PLAN_LIMITS: Readonly<Record<Plan, Readonly<PlanLimits>>> = Object.freeze({
  FREE: Object.freeze({
    rateLimitPerMinute: 60,
    monthlyQuota: 10_000,
    maxActiveKeys: 5,
    usageRetentionDays: 30,
  }),
  PRO: Object.freeze({
    rateLimitPerMinute: 1_000,
    monthlyQuota: 1_000_000,
    maxActiveKeys: 50,
    usageRetentionDays: 90,
  }),
  ENTERPRISE: Object.freeze({
    rateLimitPerMinute: 10_000,
    monthlyQuota: 100_000_000,
    maxActiveKeys: 1_000,
    usageRetentionDays: 365,
  }),
});

export function isPlan(value: unknown): value is Plan {
  return typeof value === "string" && (PLANS as readonly string[]).includes(value);
}

/** A copy of the plan's default limits. Throws on an unknown plan. */
export function planDefaults(plan: Plan): PlanLimits {
  if (!isPlan(plan)) throw new TypeError(`Unknown plan: ${String(plan)}`);
  return { ...PLAN_LIMITS[plan] };
}

/** Days of usage history kept on the plan. */
export function usageRetentionDays(plan: Plan): number {
  return planDefaults(plan).usageRetentionDays;
}
