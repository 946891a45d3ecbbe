// A key's credits and spend cap as the key service takes and shows them: input checks, the
// columns they are stored in, the live balance read from the rate-limit store (the row holds only
// the configured starting balance), and setting that balance when a PATCH names it.

import type { Tx } from "@/lib/db";
import { validationFailed } from "@/lib/errors";
import { getRateLimiter } from "@/lib/ratelimit";
import type { CreditPlan } from "@/lib/ratelimit/credits";
import { fromMicros, toMicros } from "@/lib/ratelimit/spend";
import { apiKeyRepository, type KeyBudgetColumns } from "@/lib/repositories/api-key-repository";
import { money } from "@/lib/repositories/shared";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { toFieldIssues } from "@/lib/validation/issues";
import { CreditsInputSchema, type KeyOutput, SpendLimitUsdSchema } from "@/lib/validation/keys";
import type { CreditRefillInterval } from "@/lib/validation/rules";
import type { z } from "@/lib/validation/zod";

// shared.ts's check(), repeated here because shared.ts imports this module (toKeyView).
function check<S extends z.ZodType>(schema: S, value: unknown, path: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationFailed(toFieldIssues(r.error, path));
  return r.data;
}

export interface CreditsInput {
  remaining: number;
  refill?: { amount: number; interval: CreditRefillInterval } | null;
}

/** What create and update accept about credits and the spend cap. */
export interface BudgetInput {
  /** null: no credits. */
  credits?: CreditsInput | null;
  /** Decimal string (USD per calendar month); null: no cap. */
  spendLimitUsd?: string | null;
}

interface BudgetRow {
  id: string;
  creditsRemaining: number | null;
  creditsRefillAmount: number | null;
  creditsRefillInterval: "DAY" | "MONTH" | null;
  spendLimitUsd: { toFixed(dp: number): string } | null;
}

/** The checked input as columns; only what was given (undefined: unchanged). */
export function budgetColumns(input: BudgetInput): KeyBudgetColumns {
  const out: KeyBudgetColumns = {};
  if (input.credits !== undefined) {
    const c = check(CreditsInputSchema, input.credits, "credits");
    out.creditsRemaining = c?.remaining ?? null;
    out.creditsRefillAmount = c?.refill?.amount ?? null;
    out.creditsRefillInterval = c?.refill ? (c.refill.interval === "day" ? "DAY" : "MONTH") : null;
  }
  if (input.spendLimitUsd !== undefined) {
    out.spendLimitUsd = check(SpendLimitUsdSchema, input.spendLimitUsd, "spendLimitUsd");
  }
  return out;
}

/** The audit row's words for what was set (only what was given). */
export function budgetAudit(columns: KeyBudgetColumns): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (columns.creditsRemaining !== undefined) {
    out.credits =
      columns.creditsRemaining === null
        ? null
        : {
            remaining: columns.creditsRemaining,
            refill: columns.creditsRefillAmount
              ? {
                  amount: columns.creditsRefillAmount,
                  interval: columns.creditsRefillInterval === "DAY" ? "day" : "month",
                }
              : null,
          };
  }
  if (columns.spendLimitUsd !== undefined) out.spendLimitUsd = columns.spendLimitUsd;
  return out;
}

/** The key's credits as verify spends them, or null when it has none. */
export function creditPlanOf(row: Omit<BudgetRow, "id" | "spendLimitUsd">): CreditPlan | null {
  if (row.creditsRemaining === null) return null;
  return {
    initial: row.creditsRemaining,
    refill:
      row.creditsRefillAmount !== null && row.creditsRefillInterval !== null
        ? {
            amount: row.creditsRefillAmount,
            interval: row.creditsRefillInterval === "DAY" ? "day" : "month",
          }
        : null,
  };
}

/** The view's credits and cap from the row (the balance is the starting one until live is read). */
export function budgetView(row: BudgetRow): Pick<KeyOutput, "credits" | "spendLimitUsd"> {
  const plan = creditPlanOf(row);
  return {
    credits: plan ? { remaining: plan.initial, refill: plan.refill } : null,
    spendLimitUsd: row.spendLimitUsd === null ? null : money(row.spendLimitUsd),
  };
}

/**
 * Replaces each view's starting balance with the live one from the store. A store that cannot be
 * reached leaves the starting balance (a read must not fail because the limiter is down).
 */
export async function withLiveCredits<V extends Pick<KeyOutput, "id" | "credits">>(
  views: V[],
): Promise<V[]> {
  const entries = views.flatMap((v) =>
    v.credits
      ? [{ keyId: v.id, plan: { initial: v.credits.remaining, refill: v.credits.refill } }]
      : [],
  );
  if (entries.length === 0) return views;
  const live = await getRateLimiter()
    .credits.peek(entries)
    .catch(() => null);
  if (!live) return views;
  for (const v of views) {
    const remaining = v.credits ? live.get(v.id) : undefined;
    if (v.credits && remaining !== undefined) v.credits = { ...v.credits, remaining };
  }
  return views;
}

/** The key's live balance, or null when it has no credits (or the store cannot say). */
export async function liveCreditsOf(
  db: Tx,
  organizationId: string,
  keyId: string,
): Promise<number | null> {
  const row = await apiKeyRepository.getById(db, organizationId, keyId);
  const plan = row ? creditPlanOf(row) : null;
  if (!row || !plan) return null;
  const live = await getRateLimiter()
    .credits.peek([{ keyId, plan }])
    .catch(() => null);
  return live?.get(keyId) ?? null;
}

/**
 * After a create (or rotate) committed: the store holds the starting balance with the period it
 * was given in, so a refill comes at the next period's start. A store that cannot be reached now
 * is left alone: the first spend stores the balance instead (in its own period).
 */
export async function pinStartingBalance(row: BudgetRow): Promise<void> {
  const plan = creditPlanOf(row);
  if (plan)
    await getRateLimiter()
      .credits.set(row.id, plan, plan.initial)
      .catch(() => {});
}

/** After an update committed: the live balance follows what the PATCH said. */
export async function applyCreditsChange(row: BudgetRow, input: BudgetInput): Promise<void> {
  if (input.credits === undefined) return;
  const credits = getRateLimiter().credits;
  const plan = creditPlanOf(row);
  if (plan) await credits.set(row.id, plan, plan.initial);
  else await credits.forget(row.id);
}

/** Metered cost this calendar month (UTC), of one key and of its organization: six-decimal USD. */
export async function monthToDateSpend(
  db: Tx,
  organizationId: string,
  keyId: string,
  now: Date = new Date(),
): Promise<{ key: string; organization: string }> {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const rows = await usageRepository.costByKey(db, organizationId, from, to);
  let key = 0;
  let organization = 0;
  for (const r of rows) {
    const micros = toMicros(r.costUsd);
    organization += micros;
    if (r.apiKeyId === keyId) key += micros;
  }
  return { key: fromMicros(key), organization: fromMicros(organization) };
}
