// The last steps of verifying a key on Redis in one round trip: the per-key sliding-window
// rate limit, then the organization's monthly quota and the key's credits, in one Lua script (EVALSHA; EVAL once when
// the server does not know it), so verify costs one round trip instead of two.
//
// The script is the stores' own Lua functions run back to back (SLIDING_WINDOW_FN from
// redis-store.ts, QUOTA_FN from quota.ts, CREDITS_FN from credits.ts), so the rules are the stores' exactly, and the rule
// of limitKeyRequest (policies.ts) holds: quota is checked and spent only when the rate limit
// admitted the request; a request the quota refuses still counted against the rate limit.
// Both keys are the ones the store and the counter use on their own, so the two paths share
// state (peek, reset and the counter's own consume see what this script did).
//
// One script touching two keys needs both on one node: fine for a single Redis (what Keyward
// runs with); a Redis Cluster would need the keys in one hash slot.

import {
  CREDITS_FN,
  type CreditPlan,
  type CreditResult,
  creditArgs,
  type RedisCreditStore,
} from "./credits";
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

// KEYS[1] rate-limit hash, KEYS[2] month counter, KEYS[3] (keys with credits) credit balance.
// ARGV: now, window start, window ms, limit, cost, monthly quota, quota ttl ms; with credits also
// initial balance, refill amount, refill period, credit cost.
// Returns {rate limit allowed, prev, curr, quota allowed, used, credits allowed, balance}. Quota
// and credits are both checked before either is spent, so a request one of them refuses spends
// neither; the rate limit's hit stays counted, as before.
export const KEY_REQUEST_LUA = `${SLIDING_WINDOW_FN}${QUOTA_FN}${CREDITS_FN}
local admitted, prev, curr = sliding_window(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], "1")
if not admitted then return {0, prev, curr, 0, 0, 0, 0} end
local fits, used = quota(KEYS[2], ARGV[6], ARGV[5], ARGV[7], "0")
if not fits then return {1, prev, curr, 0, used, 0, 0} end
local balance = 0
if #KEYS == 3 then
  -- Spent only when it holds the cost; a refusal spends nothing (and leaves the quota alone).
  local enough
  enough, balance = credits(KEYS[3], ARGV[8], ARGV[9], ARGV[10], ARGV[11], "1")
  if not enough then return {1, prev, curr, 1, used, 0, balance} end
end
fits, used = quota(KEYS[2], ARGV[6], ARGV[5], ARGV[7], "1")
return {1, prev, curr, 1, used, 1, balance}
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
  /** The key's credits, when it has them: `cost` credits are spent with the quota. */
  credits?: { keyId: string; plan: CreditPlan; cost: number };
}

export interface KeyRequestResult {
  rateLimit: RateLimitResult;
  /** Absent when the rate limit refused: the quota was neither checked nor spent. */
  quota?: QuotaResult;
  /** Present when credits were asked for and the quota admitted the request. */
  credits?: CreditResult;
}

/** Rate limit, then quota and credits, as one atomic script on the store's connection. */
export class RedisKeyRequestLimiter {
  constructor(
    private readonly store: RedisRateLimitStore,
    private readonly quota: RedisQuotaCounter,
    private readonly creditStore: RedisCreditStore,
    private readonly now: Clock = Date.now,
  ) {}

  async hit(req: KeyRequest): Promise<KeyRequestResult> {
    const cost = req.cost ?? 1;
    validateHit(req.limit, req.windowMs, cost);
    validateQuota(req.monthlyQuota, cost);
    const now = this.now();
    const start = windowStartOf(now, req.windowMs);
    const counter = this.quota.counterKey(req.organizationId, now);
    const keys = [this.store.redisKey(req.key), counter.key];
    const args: (string | number)[] = [
      now,
      start,
      req.windowMs,
      req.limit,
      cost,
      req.monthlyQuota,
      counter.ttl,
    ];
    if (req.credits) {
      keys.push(this.creditStore.redisKey(req.credits.keyId));
      args.push(...creditArgs(req.credits.plan, now, req.credits.cost));
    }
    const reply = (await runScript(this.store.redis, KEY_REQUEST, keys, args)) as number[];
    const [admitted, prev, curr, spent, used, enough, balance] = reply as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const rateLimit = toResult({ prev, curr }, admitted === 1, now, req.windowMs, req.limit, cost);
    if (admitted !== 1) return { rateLimit };
    const quota = quotaResult(spent === 1, req.monthlyQuota, used, counter.month.end);
    if (!req.credits || spent !== 1) return { rateLimit, quota };
    return { rateLimit, quota, credits: { allowed: enough === 1, remaining: Number(balance) } };
  }
}
