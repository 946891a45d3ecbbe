// Named rate-limit policies and the one place that applies them, with the decision
// of what happens when the shared store fails (Redis down, database error).
//
// Fail modes, per policy:
// - "open" (API traffic): a limiter outage must not become an outage of every
//   customer's API. The request is judged by this instance's in-process limiter
//   instead (same limit, per instance), so limits loosen by at most the number of
//   instances but never vanish, and the answer is marked `degraded: "local"`.
// - "closed" (sign-in): these limits exist to stop password guessing; while they
//   cannot be enforced, sign-in answers "try again shortly" (`degraded: "closed"`).
//   Dashboard sign-in pausing during an outage is the smaller harm.
// The monthly quota fails open (allowed, `degraded: true`): it is a billing limit,
// and the usage table still records every request for reconciliation.

import { KeywardError } from "@/lib/errors";
import type { CreditPlan, CreditResult } from "./credits";
import { getRateLimiter, type RateLimiter } from "./index";
import { MemoryRateLimitStore } from "./memory-store";
import { monthOf, type QuotaResult } from "./quota";
import type { RateLimitResult, RateLimitStore } from "./types";

export type FailMode = "open" | "closed";

export interface RateLimitPolicy {
  /** Prefix of the store key: `${name}:${identifier}`. */
  name: string;
  limit: number;
  windowMs: number;
  failMode: FailMode;
}

const MINUTE = 60_000;

export const POLICIES = {
  /** Requests per minute per API key; `limit` is overridden by the key's or plan's own. */
  apiKey: { name: "key-rpm", limit: 60, windowMs: MINUTE, failMode: "open" },
  /** Failed verifications per client address: hit on each failure, peek before lookup. */
  verifyFailuresPerAddress: {
    name: "verify-fail-ip",
    limit: 100,
    windowMs: MINUTE,
    failMode: "open",
  },
  /**
   * Sign-in attempts per e-mail address: reserved before the password is checked (reserve()),
   * so concurrent attempts cannot check more passwords than this; a success clears the counter.
   */
  signInPerEmail: { name: "signin-email", limit: 5, windowMs: 15 * MINUTE, failMode: "closed" },
  /**
   * Sign-in attempts per client address (several people may share one address): reserved like
   * signInPerEmail; a success gives its slot back, so only failures stay counted.
   */
  signInPerAddress: { name: "signin-ip", limit: 20, windowMs: 15 * MINUTE, failMode: "closed" },
  /** Sign-ups per client address, every attempt counted (each one hashes a password). */
  signUpPerAddress: { name: "signup-ip", limit: 10, windowMs: 60 * MINUTE, failMode: "closed" },
  /**
   * Invitations sent per client address, every attempt counted: for the invitation flow, as
   * `assertRateLimit("invitePerAddress", address)` (429 RATE_LIMITED) or `reserve(...)`.
   */
  invitePerAddress: { name: "invite-ip", limit: 30, windowMs: 60 * MINUTE, failMode: "closed" },
  /** Invitation mails (new and resent) per organization: a bound on what one admin can send. */
  invitePerOrg: { name: "invite-org", limit: 50, windowMs: 60 * MINUTE, failMode: "open" },
  /** Invitation mails per invited address, across organizations: nobody's inbox is flooded. */
  invitePerInvitee: { name: "invite-email", limit: 5, windowMs: 60 * MINUTE, failMode: "open" },
  /** Verification mails per user (sign-up and "resend"). */
  verificationMailPerUser: {
    name: "verify-mail",
    limit: 5,
    windowMs: 60 * MINUTE,
    failMode: "open",
  },
  /**
   * Leak reports per client address (POST /api/v1/keys/leaked), every report counted: each one
   * may look a key up and queue work after the answer.
   */
  leakReportPerAddress: { name: "leak-report-ip", limit: 30, windowMs: MINUTE, failMode: "open" },
} as const satisfies Record<string, RateLimitPolicy>;

export type PolicyName = keyof typeof POLICIES;

export interface PolicyResult extends RateLimitResult {
  policy: string;
  /** Set when the shared store failed and the policy's fail mode decided. */
  degraded?: "local" | "closed";
}

export interface LimitOptions {
  /** Overrides the policy's limit (e.g. the key's own requests per minute). */
  limit?: number;
  cost?: number;
  /** Report without counting (e.g. "is this address already blocked?"). */
  peek?: boolean;
  limiter?: RateLimiter;
  log?: (message: string) => void;
}

export function policyKey(policy: RateLimitPolicy, identifier: string): string {
  return `${policy.name}:${identifier}`;
}

// One line per failing store every 10 s at most: an outage must not flood the log.
let lastLog = 0;
function logFailure(log: (m: string) => void, what: string, e: unknown): void {
  const now = Date.now();
  if (now - lastLog < 10_000) return;
  lastLog = now;
  log(`ratelimit: ${what} failed (${(e as Error)?.name ?? "Error"}: ${(e as Error)?.message})`);
}

/** What limit() and reserve() share: the policy, the limiter, the limit, the cost, the key. */
function resolve(policy: RateLimitPolicy | PolicyName, identifier: string, options: LimitOptions) {
  const p = typeof policy === "string" ? POLICIES[policy] : policy;
  const limiter = options.limiter ?? getRateLimiter();
  const max = options.limit ?? p.limit;
  const cost = options.cost ?? 1;
  return { p, limiter, max, cost, key: policyKey(p, identifier) };
}

/**
 * The store failed: a RangeError (a caller's mistake, not an outage) is rethrown; anything else
 * is logged and answered by the policy's fail mode: the refusal when it fails closed, else null
 * (the caller falls back to the process-local store).
 */
function onStoreFailure(
  e: unknown,
  { p, limiter, max }: ReturnType<typeof resolve>,
  options: LimitOptions,
): (PolicyResult & { degraded: "closed" }) | null {
  if (e instanceof RangeError) throw e;
  logFailure(options.log ?? console.error, `store (${limiter.kind}) for ${p.name}`, e);
  if (p.failMode !== "closed") return null;
  const now = Date.now();
  return {
    allowed: false,
    limit: max,
    remaining: 0,
    reset: now + 1_000,
    retryAfterMs: 1_000,
    policy: p.name,
    degraded: "closed",
  };
}

/** Applies a policy to one identifier (API key id, client address, e-mail). */
export async function limit(
  policy: RateLimitPolicy | PolicyName,
  identifier: string,
  options: LimitOptions = {},
): Promise<PolicyResult> {
  const resolved = resolve(policy, identifier, options);
  const { p, limiter, max, cost, key } = resolved;
  try {
    const store = limiter.store;
    const r =
      options.peek && store.peek
        ? await store.peek(key, max, p.windowMs, cost)
        : store instanceof MemoryRateLimitStore
          ? store.hitSync(key, max, p.windowMs, cost) // no promise to wait for in process
          : await store.hit(key, max, p.windowMs, cost);
    (r as PolicyResult).policy = p.name; // a fresh object from the store: no copy needed
    return r as PolicyResult;
  } catch (e) {
    const refusal = onStoreFailure(e, resolved, options);
    if (refusal) return refusal;
    const r = options.peek
      ? await limiter.local.peek(key, max, p.windowMs, cost)
      : limiter.local.hitSync(key, max, p.windowMs, cost);
    return { ...r, policy: p.name, degraded: "local" };
  }
}

export interface PolicyReservation extends PolicyResult {
  /**
   * Gives the reserved slot back (a refund: the attempt turned out not to count). Does nothing
   * for a refused or degraded reservation, and never throws: a refund that cannot reach the
   * store leaves the slot counted, which only errs towards throttling.
   */
  release(): Promise<void>;
}

const noRelease = async () => {};

/**
 * Takes one slot of a policy before the work it guards (e.g. a password check), atomically in
 * every store: concurrent reservations never exceed the limit, so concurrency cannot buy more
 * attempts. `release()` refunds it when the attempt should not count. Fail modes as limit().
 */
export async function reserve(
  policy: RateLimitPolicy | PolicyName,
  identifier: string,
  options: Omit<LimitOptions, "peek"> = {},
): Promise<PolicyReservation> {
  const resolved = resolve(policy, identifier, options);
  const { p, limiter, max, cost, key } = resolved;
  const from = async (store: RateLimitStore, degraded?: "local") => {
    const { windowStart, ...r } = await store.reserve(key, max, p.windowMs, cost);
    const release = r.allowed
      ? () => store.release(key, windowStart, p.windowMs, cost).catch(() => {})
      : noRelease;
    return { ...r, policy: p.name, ...(degraded ? { degraded } : {}), release };
  };
  try {
    return await from(limiter.store);
  } catch (e) {
    const refusal = onStoreFailure(e, resolved, options);
    if (refusal) return { ...refusal, release: noRelease };
    return from(limiter.local, "local");
  }
}

/** Like limit(), but throws RATE_LIMITED (429, with retryAfter in seconds) when denied. */
export async function assertRateLimit(
  policy: RateLimitPolicy | PolicyName,
  identifier: string,
  options: LimitOptions = {},
): Promise<PolicyResult> {
  const r = await limit(policy, identifier, options);
  if (!r.allowed) {
    throw new KeywardError("RATE_LIMITED", "Too many requests. Try again later.", {
      extra: { retryAfter: retryAfterSeconds(r), limit: r.limit, remaining: 0, reset: r.reset },
    });
  }
  return r;
}

/** Whole seconds to wait, rounded up, at least 1 (Retry-After is seconds, never ms). */
export function retryAfterSeconds(r: Pick<RateLimitResult, "retryAfterMs">): number {
  return Math.max(1, Math.ceil(r.retryAfterMs / 1000));
}

export interface QuotaOutcome extends QuotaResult {
  degraded?: boolean;
}

export interface KeyRequestLimits {
  apiKeyId: string;
  organizationId: string;
  /** The key's own limit, else its plan's (the caller resolves which). */
  requestsPerMinute: number;
  monthlyQuota: number;
  /** The key's credits, when it has them, and what this request costs (an integer >= 0). */
  credits?: { plan: CreditPlan; cost: number };
}

/** The credits' answer; `degraded` when their store failed (spent nothing, allowed). */
export interface CreditOutcome extends CreditResult {
  degraded?: boolean;
}

export type KeyRequestOutcome =
  | { code: "OK"; rateLimit: PolicyResult; quota: QuotaOutcome; credits?: CreditOutcome }
  | { code: "RATE_LIMITED"; rateLimit: PolicyResult; quota?: undefined; credits?: undefined }
  | { code: "QUOTA_EXCEEDED"; rateLimit: PolicyResult; quota: QuotaOutcome; credits?: undefined }
  | {
      code: "CREDITS_EXHAUSTED";
      rateLimit: PolicyResult;
      quota: QuotaOutcome;
      credits: CreditOutcome;
    };

// Credits fail open like the quota: a store outage must not take the team's API down; the
// answer carries no balance then (verify answers `credits: null`).
const degradedCredits = (): CreditOutcome => ({ allowed: true, remaining: 0, degraded: true });

/** The quota's answer while its store is failing: allowed (it fails open), marked degraded. */
function degradedQuota(limit: number): QuotaOutcome {
  return {
    allowed: true,
    limit,
    used: 0,
    remaining: limit,
    reset: monthOf(Date.now()).end,
    degraded: true,
  };
}

/**
 * The last steps of verifying a key: the per-key rate limit, then the monthly quota and the
 * key's credits. Quota and credits are spent only when the rate limit admitted the request, and
 * only together: a request the credits refuse gives its quota back (in process; on Redis the
 * script checks both before spending either), so a refused request spends neither. When the
 * limiter can do all in one step (Redis: one script, one round trip), it does.
 */
export async function limitKeyRequest(
  req: KeyRequestLimits,
  options: { limiter?: RateLimiter; log?: (message: string) => void } = {},
): Promise<KeyRequestOutcome> {
  const limiter = options.limiter ?? getRateLimiter();
  if (limiter.keyRequest) {
    return limitKeyRequestAtOnce(limiter, limiter.keyRequest, req, options.log);
  }
  const rateLimit = await limit(POLICIES.apiKey, req.apiKeyId, {
    limit: req.requestsPerMinute,
    limiter,
    log: options.log,
  });
  if (!rateLimit.allowed) return { code: "RATE_LIMITED", rateLimit };
  let quota: QuotaOutcome;
  try {
    quota = await limiter.quota.consume(req.organizationId, req.monthlyQuota);
  } catch (e) {
    if (e instanceof RangeError) throw e;
    logFailure(options.log ?? console.error, `quota (${limiter.kind})`, e);
    quota = degradedQuota(req.monthlyQuota);
  }
  if (!quota.allowed) return { code: "QUOTA_EXCEEDED", rateLimit, quota };
  if (!req.credits) return { code: "OK", rateLimit, quota };
  let credits: CreditOutcome;
  try {
    credits = await limiter.credits.spend(req.apiKeyId, req.credits.plan, req.credits.cost);
  } catch (e) {
    if (e instanceof RangeError) throw e;
    logFailure(options.log ?? console.error, `credits (${limiter.kind})`, e);
    credits = degradedCredits();
  }
  if (credits.allowed) return { code: "OK", rateLimit, quota, credits };
  if (!quota.degraded) limiter.quota.refund?.(req.organizationId, 1);
  return { code: "CREDITS_EXHAUSTED", rateLimit, quota, credits };
}

/**
 * limitKeyRequest through limiter.keyRequest. Same answers and fail modes as the two calls:
 * when the shared store fails, the rate limit falls back to the in-process limiter (the
 * apiKey policy fails open) and the quota fails open, without a second try at the store.
 */
async function limitKeyRequestAtOnce(
  limiter: RateLimiter,
  keyRequest: NonNullable<RateLimiter["keyRequest"]>,
  req: KeyRequestLimits,
  log: ((message: string) => void) | undefined,
): Promise<KeyRequestOutcome> {
  const p = POLICIES.apiKey;
  const key = policyKey(p, req.apiKeyId);
  let rateLimit: PolicyResult;
  let quota: QuotaOutcome | undefined;
  let credits: CreditOutcome | undefined;
  try {
    const r = await keyRequest.call(limiter, {
      key,
      limit: req.requestsPerMinute,
      windowMs: p.windowMs,
      organizationId: req.organizationId,
      monthlyQuota: req.monthlyQuota,
      // Spelled out, not spread: a spread is a few µs per verify on Node 20 (issue 18).
      credits: req.credits && {
        keyId: req.apiKeyId,
        plan: req.credits.plan,
        cost: req.credits.cost,
      },
    });
    rateLimit = r.rateLimit as PolicyResult;
    rateLimit.policy = p.name;
    quota = r.quota;
    credits = r.credits;
  } catch (e) {
    if (e instanceof RangeError) throw e;
    logFailure(log ?? console.error, `store (${limiter.kind}) for ${p.name} and quota`, e);
    rateLimit = limiter.local.hitSync(key, req.requestsPerMinute, p.windowMs) as PolicyResult;
    rateLimit.policy = p.name;
    rateLimit.degraded = "local";
    quota = rateLimit.allowed ? degradedQuota(req.monthlyQuota) : undefined;
    credits = req.credits && rateLimit.allowed ? degradedCredits() : undefined;
  }
  if (!rateLimit.allowed) return { code: "RATE_LIMITED", rateLimit };
  quota ??= degradedQuota(req.monthlyQuota); // not expected: an admitted request has an answer
  if (!quota.allowed) return { code: "QUOTA_EXCEEDED", rateLimit, quota };
  if (!credits || credits.allowed) return { code: "OK", rateLimit, quota, credits };
  return { code: "CREDITS_EXHAUSTED", rateLimit, quota, credits };
}
