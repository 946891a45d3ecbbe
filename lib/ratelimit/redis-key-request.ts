// The last two steps of verifying a key on Redis in one round trip: the per-key sliding-window
// rate limit, then the organization's monthly quota, in one Lua script (EVALSHA; EVAL once when
// the server does not know it), so verify costs one round trip instead of two.
//
// The script is the two stores' own Lua functions run back to back (SLIDING_WINDOW_FN from
// redis-store.ts, QUOTA_FN from quota.ts), so the rules are the stores' exactly, and the rule
// of limitKeyRequest (policies.ts) holds: quota is checked and spent only when the rate limit
// admitted the request; a request the quota refuses still counted against the rate limit.
// Both keys are the ones the store and the counter use on their own, so the two paths share
// state (peek, reset and the counter's own consume see what this script did).
//
// One script touching two keys needs both on one node: fine for a single Redis (what Keyward
// runs with); a Redis Cluster would need the keys in one hash slot.

import {
  QUOTA_FN,
  type QuotaResult,
  quotaResult,
  type RedisQuotaCounter,
  validateQuota,
} from "./quota";
import { luaScript, type RedisRateLimitStore, runScript, SLIDING_WINDOW_FN } from "./redis-store";
import { toResult, validateHit, windowStartOf } from "./sliding-window";
import type { Clock, RateLimitResult } from "./types";

// KEYS[1] rate-limit hash, KEYS[2] month counter.
// ARGV: now, window start, window ms, limit, cost, monthly quota, quota ttl ms.
// Returns {rate limit allowed, prev, curr, quota allowed, used}; the last two are 0 when the
// rate limit refused (the quota was not looked at).
export const KEY_REQUEST_LUA = `${SLIDING_WINDOW_FN}${QUOTA_FN}
local admitted, prev, curr = sliding_window(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], "1")
if not admitted then return {0, prev, curr, 0, 0} end
local spent, used = quota(KEYS[2], ARGV[6], ARGV[5], ARGV[7], "1")
return {1, prev, curr, spent and 1 or 0, used}
`;
const KEY_REQUEST = luaScript(KEY_REQUEST_LUA);

export interface KeyRequest {
  /** The rate-limit key, as the store's hit() takes it (e.g. `key-rpm:<api key id>`). */
  key: string;
  limit: number;
  windowMs: number;
  organizationId: string;
  monthlyQuota: number;
  /** Counted against both the rate limit and the quota (default 1). */
  cost?: number;
}

export interface KeyRequestResult {
  rateLimit: RateLimitResult;
  /** Absent when the rate limit refused: the quota was neither checked nor spent. */
  quota?: QuotaResult;
}

/** Rate limit then quota, as one atomic script on the store's connection. */
export class RedisKeyRequestLimiter {
  constructor(
    private readonly store: RedisRateLimitStore,
    private readonly quota: RedisQuotaCounter,
    private readonly now: Clock = Date.now,
  ) {}

  async hit(req: KeyRequest): Promise<KeyRequestResult> {
    const cost = req.cost ?? 1;
    validateHit(req.limit, req.windowMs, cost);
    validateQuota(req.monthlyQuota, cost);
    const now = this.now();
    const start = windowStartOf(now, req.windowMs);
    const counter = this.quota.counterKey(req.organizationId, now);
    const reply = (await runScript(
      this.store.redis,
      KEY_REQUEST,
      [this.store.redisKey(req.key), counter.key],
      [now, start, req.windowMs, req.limit, cost, req.monthlyQuota, counter.ttl],
    )) as [number, number, number, number, number];
    const [admitted, prev, curr, spent, used] = reply;
    const rateLimit = toResult({ prev, curr }, admitted === 1, now, req.windowMs, req.limit, cost);
    if (admitted !== 1) return { rateLimit };
    return {
      rateLimit,
      quota: quotaResult(spent === 1, req.monthlyQuota, used, counter.month.end),
    };
  }
}
