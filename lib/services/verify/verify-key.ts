// The verify engine: is this key valid for this request, as data (a stable code), never an
// exception. The hot path of every authenticated API call and of POST /api/v1/keys/verify.
import type { Db } from "@/lib/db";
import {
  effectiveStatus,
  hashKey,
  hasValidChecksum,
  isValidKeyFormat,
  verifyKey as keyMatchesHash,
} from "@/lib/keys";
import { getRateLimiter } from "@/lib/ratelimit";
import { limit, limitKeyRequest, POLICIES } from "@/lib/ratelimit/policies";
import type { RateLimitResult } from "@/lib/ratelimit/types";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import type { VerifyCode } from "@/lib/validation/keys";
import { type CachedKey, getKeyCache } from "../key-cache";
import { noteRateLimitExceeded } from "../webhooks/ratelimit-notice";
import { effectiveRateLimit, toCachedKey } from "./cached-key";
import { legacyKeysMayExist } from "./legacy-keys";

export interface VerifyInput {
  key: string;
  /** Scopes the key must all hold. */
  scopes?: string[];
  /** What is being accessed, for metering by the caller. */
  endpoint?: string;
  /** The client's address: failed attempts are rate limited per address. */
  ip?: string;
  /** Credits this request spends from a key with credits (default 1; 0 checks only). */
  cost?: number;
  /**
   * The address a key's allowlist is checked against: the end client's (verify's body `ip`), or
   * the caller's own on routes the key calls itself. Missing: outside every allowlist.
   */
  clientIp?: string | null;
}

export interface VerifyOutcome {
  valid: boolean;
  code: VerifyCode;
  /** The key, when one was found (also for REVOKED/EXPIRED/...). */
  key: CachedKey | null;
  /** The key's own rate limit state, when it was counted. */
  ratelimit: RateLimitResult | null;
  /** Set when failed attempts from this address were counted; not allowed = throttled. */
  addressLimit?: RateLimitResult;
  /** Unix ms when the monthly quota resets (QUOTA_EXCEEDED). */
  quotaResetAt?: number;
  /** The key's credit balance after this request, for a key with credits (when known). */
  credits?: { remaining: number };
}

const AUTH_FAILURES: ReadonlySet<VerifyCode> = new Set([
  "INVALID_FORMAT",
  "NOT_FOUND",
  "REVOKED",
  "EXPIRED",
]);

/**
 * format and checksum -> hash -> lookup (cached) -> status, expiry, organization -> scopes ->
 * allowlist -> spend caps -> rate limit -> quota and credits. Cheapest checks first; the quota
 * and the credits are spent last, together, only by a request that passed the rest.
 */
export async function verifyKey(db: Db, input: VerifyInput): Promise<VerifyOutcome> {
  const outcome = await evaluate(db, input);
  if (input.ip && AUTH_FAILURES.has(outcome.code)) {
    // Only failures spend the address's budget: a service verifying many valid keys from one
    // address is never throttled by address. If the limiter fails, we fail open here: the
    // address limit guards the database, it is not what makes a bad key invalid.
    outcome.addressLimit =
      (await limit(POLICIES.verifyFailuresPerAddress, input.ip).catch(() => null)) ?? undefined;
  }
  return outcome;
}

async function evaluate(db: Db, input: VerifyInput): Promise<VerifyOutcome> {
  const fail = (code: VerifyCode, key: CachedKey | null = null): VerifyOutcome => ({
    valid: false,
    code,
    key,
    ratelimit: null,
  });
  // A failed checksum is a typo or an invented key: refused before the hash, the cache and the
  // database, unless keys issued before the checksum may still exist (lib/services/verify/legacy-keys.ts).
  // One pass checks the format and the checksum; with no legacy key left (the usual case, known
  // synchronously) a typo and an invented key are refused alike, at the same cost.
  if (!hasValidChecksum(input.key)) {
    const legacy = legacyKeysMayExist(db);
    if (legacy === false || !isValidKeyFormat(input.key)) return fail("INVALID_FORMAT");
    if (legacy !== true && !(await legacy)) return fail("INVALID_FORMAT");
  }
  const hash = hashKey(input.key);
  // Even an address over its failed-attempt budget gets the lookup: a valid key must never be
  // throttled by address (one service may verify thousands of keys from one address). The
  // budget changes only what a failure answers (429), and the negative cache absorbs repeats.
  // Requests that miss together share one lookup (KeyCache.lookup).
  const found = getKeyCache().lookup(hash, async () => {
    const row = await apiKeyRepository.getByHash(db, hash);
    // The index found the row by hash; the constant-time comparison is the check we rely on.
    return row && keyMatchesHash(input.key, row.keyHash) ? toCachedKey(row) : null;
  });
  const key: CachedKey | null = "hit" in found ? found.value : await found;
  if (!key) return fail("NOT_FOUND");
  const status = effectiveStatus(key, Date.now());
  if (status === "revoked") return fail("REVOKED", key);
  if (status === "expired") return fail("EXPIRED", key);
  if (!key.organization.isActive) return fail("ORG_INACTIVE", key);
  const required = input.scopes ?? [];
  if (required.some((s) => !key.scopes.includes(s))) return fail("INSUFFICIENT_SCOPE", key);
  // Before the limiter: a refused address spends no rate limit, quota or credits.
  if (key.allowlist && !key.allowlist(input.clientIp)) return fail("IP_NOT_ALLOWED", key);

  // The spend caps read an in-process counter of the month's metered cost (no query per verify;
  // a recount from the rollups at most every 10 s, lib/ratelimit/spend.ts). Before the rate
  // limit, so a refused request spends nothing. A counter fault fails open, like the quota.
  if (key.spendLimitMicros !== null || key.organization.spendLimitMicros !== null) {
    const spent = await getRateLimiter()
      .spend.read(key.organization.id, key.id)
      .catch(() => null);
    if (spent && overCap(key, spent)) return fail("SPEND_LIMIT_EXCEEDED", key);
  }

  // The rate limit, then (only when it admitted) the quota and the credits: in one step where
  // the limiter can (Redis: one script, one round trip). All fail open inside limitKeyRequest: an
  // outage answers the in-process rate limit and an allowed quota marked degraded. Anything it
  // still throws fails open here too: a limiter fault must not take the team's API down with it.
  const limits = await limitKeyRequest({
    apiKeyId: key.id,
    organizationId: key.organization.id,
    requestsPerMinute: effectiveRateLimit(key),
    monthlyQuota: key.organization.monthlyQuota,
    credits: key.credits ? { plan: key.credits, cost: input.cost ?? 1 } : undefined,
  }).catch(() => null);
  if (!limits) return { valid: true, code: "VALID", key, ratelimit: null };
  const ratelimit = limits.rateLimit;
  if (limits.code === "RATE_LIMITED") {
    // ratelimit.exceeded, off this path: memoized per key and window, written without waiting.
    noteRateLimitExceeded(db, key, ratelimit.limit);
    return { valid: false, code: "RATE_LIMITED", key, ratelimit };
  }
  if (limits.code === "QUOTA_EXCEEDED") {
    return {
      valid: false,
      code: "QUOTA_EXCEEDED",
      key,
      ratelimit,
      quotaResetAt: limits.quota.reset,
    };
  }
  const credits =
    limits.credits && !limits.credits.degraded
      ? { remaining: limits.credits.remaining }
      : undefined;
  if (limits.code === "CREDITS_EXHAUSTED") {
    return { valid: false, code: "CREDITS_EXHAUSTED", key, ratelimit, credits };
  }
  return { valid: true, code: "VALID", key, ratelimit, credits };
}

/** At or over the key's cap or its organization's (micro-dollars this month). */
function overCap(key: CachedKey, spent: { organization: number; key: number }): boolean {
  const k = key.spendLimitMicros;
  const o = key.organization.spendLimitMicros;
  return (k !== null && spent.key >= k) || (o !== null && spent.organization >= o);
}
