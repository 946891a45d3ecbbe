// The public verify answer (`POST /api/v1/keys/verify`).
import type { VerifyResultOutput } from "@/lib/validation/keys";
import type { VerifyOutcome } from "./verify-key";

export function toVerifyResult(
  outcome: VerifyOutcome,
  now: number = Date.now(),
): VerifyResultOutput {
  const k = outcome.key;
  const rl = outcome.ratelimit;
  return {
    valid: outcome.valid,
    code: outcome.code,
    keyId: k?.id ?? null,
    organizationId: k?.organizationId ?? null,
    environment: k?.environment ?? null,
    scopes: k ? [...k.scopes] : [],
    expiresAt: k?.expiresAt ? new Date(k.expiresAt).toISOString() : null,
    ratelimit: rl
      ? {
          limit: rl.limit,
          remaining: Math.max(0, rl.remaining),
          reset: Math.max(0, Math.ceil((rl.reset - now) / 1000)),
        }
      : null,
    credits: outcome.credits ? { remaining: outcome.credits.remaining } : null,
    externalId: k?.externalId ?? null,
    meta: k?.meta ?? null,
  };
}
