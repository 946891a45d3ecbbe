// Per-organization monthly request quota (calendar month, UTC). Checked last in a
// key's verification and spent only when everything else allowed the request, so a
// denied request (bad scope, rate limited, quota exhausted) never uses up quota.
//
// - memory: one counter per organization in process (the embedded default).
// - redis: INCRBY on a key per organization and month, inside a Lua script so the
//   check and the spend are one atomic round trip across instances; the key expires
//   a day after the month ends.
// - postgres: there is no counter table. The month's count is computed from the usage
//   rollups (the metered requests; see countMeteredRequests) and cached per organization
//   with an in-process delta of what was admitted since. Every `refreshMs` the base is
//   recounted and the cache becomes max(recount, base + delta): the usage recorder writes
//   with about a second of delay, so a recount alone would forget admitted-but-unflushed
//   requests; the max keeps this instance's own count monotonic and still picks up other
//   writers. Exact for one instance; approximate (by the other instances' last refresh) for
//   several.

import type { Redis } from "ioredis";
import type { Tx } from "@/lib/db";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { luaScript, RedisCounter, runScript } from "./redis-store";
import type { Clock } from "./types";

export interface QuotaResult {
  allowed: boolean;
  limit: number;
  /** Requests counted this month (after this one, when admitted). */
  used: number;
  remaining: number;
  /** Unix ms when the quota renews: the start of the next UTC month. */
  reset: number;
}

export interface QuotaCounter {
  /** Spends `cost` (default 1) of the organization's monthly `limit` when it fits. */
  consume(organizationId: string, limit: number, cost?: number): Promise<QuotaResult>;
  /** The state without spending. */
  peek(organizationId: string, limit: number): Promise<QuotaResult>;
  /**
   * Gives back `cost` spent this month by a request a later step refused (its credits). The
   * in-process counters only: on Redis the combined script checks both before spending either.
   */
  refund?(organizationId: string, cost: number): void;
  close(): Promise<void>;
}

export interface Month {
  /** "2026-11" */
  readonly key: string;
  /** Unix ms of the month's first instant (UTC). */
  readonly start: number;
  /** Unix ms of the next month's first instant (UTC). */
  readonly end: number;
}

function computeMonth(now: number): Month {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return Object.freeze({
    key: `${y}-${String(m + 1).padStart(2, "0")}`,
    start: Date.UTC(y, m, 1),
    end: Date.UTC(y, m + 1, 1),
  });
}

// The month of the last call: every verify asks, and it changes once a month. Recomputed only
// when `now` falls outside it (the month ended, or a test's clock moved).
let lastMonth: Month = computeMonth(Date.now());

/** The UTC calendar month containing `now`: its key ("2026-11") and bounds in unix ms. */
export function monthOf(now: number): Month {
  const m = lastMonth;
  if (now >= m.start && now < m.end) return m;
  lastMonth = computeMonth(now);
  return lastMonth;
}

export function quotaResult(
  allowed: boolean,
  limit: number,
  used: number,
  end: number,
): QuotaResult {
  return { allowed, limit, used, remaining: Math.max(0, limit - used), reset: end };
}

export function validateQuota(limit: number, cost: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError("limit must be an integer >= 0");
  if (!Number.isInteger(cost) || cost < 1) throw new RangeError("cost must be an integer >= 1");
}

export class MemoryQuotaCounter implements QuotaCounter {
  private readonly counts = new Map<string, { month: string; used: number }>();
  private readonly now: Clock;

  constructor(options: { now?: Clock } = {}) {
    this.now = options.now ?? Date.now;
  }

  async consume(organizationId: string, limit: number, cost = 1): Promise<QuotaResult> {
    validateQuota(limit, cost);
    const month = monthOf(this.now());
    let entry = this.counts.get(organizationId);
    if (!entry || entry.month !== month.key) {
      entry = { month: month.key, used: 0 };
      this.counts.set(organizationId, entry);
    }
    const allowed = entry.used + cost <= limit;
    if (allowed) entry.used += cost;
    return quotaResult(allowed, limit, entry.used, month.end);
  }

  async peek(organizationId: string, limit: number): Promise<QuotaResult> {
    const month = monthOf(this.now());
    const entry = this.counts.get(organizationId);
    const used = entry?.month === month.key ? entry.used : 0;
    return quotaResult(used < limit, limit, used, month.end);
  }

  refund(organizationId: string, cost: number): void {
    const entry = this.counts.get(organizationId);
    if (entry?.month === monthOf(this.now()).key) entry.used = Math.max(0, entry.used - cost);
  }

  async close(): Promise<void> {
    this.counts.clear();
  }
}

// The quota step as a Lua function, shared by the counter's script and the verify path's
// combined script (redis-key-request.ts). Arguments are strings (ARGV); returns allowed, used
// (after the spend when it was made). The key expires `ttl` ms after its first spend.
export const QUOTA_FN = `
local function quota(key, limit_s, cost_s, ttl_s, commit)
  local used = tonumber(redis.call("GET", key) or "0")
  local limit = tonumber(limit_s)
  local cost = tonumber(cost_s)
  if used + cost > limit then return false, used end
  if commit ~= "1" then return true, used end
  used = redis.call("INCRBY", key, cost)
  if used == cost then redis.call("PEXPIRE", key, ttl_s) end
  return true, used
end
`;

// KEYS[1] month counter; ARGV: limit, cost, ttl ms, commit. Returns {allowed, used}.
export const QUOTA_LUA = `${QUOTA_FN}
local allowed, used = quota(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return {allowed and 1 or 0, used}
`;
const QUOTA = luaScript(QUOTA_LUA);

export class RedisQuotaCounter extends RedisCounter implements QuotaCounter {
  constructor(options: { redis?: Redis; url?: string; prefix?: string; now?: Clock }) {
    super(options, "RedisQuotaCounter", "kw:quota:");
  }

  consume(organizationId: string, limit: number, cost = 1): Promise<QuotaResult> {
    validateQuota(limit, cost);
    return this.run(organizationId, limit, cost, true);
  }

  peek(organizationId: string, limit: number): Promise<QuotaResult> {
    return this.run(organizationId, limit, 1, false);
  }

  /** The organization's counter for the month holding `now`, and the TTL its first spend sets. */
  counterKey(orgId: string, now: number): { key: string; ttl: number; month: Month } {
    const month = monthOf(now);
    // The key outlives its month by a day.
    return { key: `${this.prefix}${orgId}:${month.key}`, ttl: month.end - now + 86_400_000, month };
  }

  private async run(orgId: string, limit: number, cost: number, commit: boolean) {
    const { key, ttl, month } = this.counterKey(orgId, this.now());
    const reply = await runScript(this.redis, QUOTA, key, [limit, cost, ttl, commit ? 1 : 0]);
    const [allowed, used] = reply as [number, number];
    return quotaResult(allowed === 1, limit, used, month.end);
  }
}

/** Counts the requests that used quota in [from, to): metered requests not turned away. */
export type UsageCounter = (
  db: Tx,
  organizationId: string,
  from: Date,
  to: Date,
) => Promise<number>;

// Counted from the rollups, not the raw ApiKeyUsage rows: raw rows are deleted after the
// organization's retention (usage-retention.ts; FREE keeps 30 days, shorter than some months),
// rollups are written in the same statement as the raw rows and kept far longer, so the count
// is the same while both exist and stays right after the raw rows are gone. A month's bounds are
// whole UTC days, which is the rollups' resolution.
// Only billable requests: those the key check admitted, so quota was spent on them (a verify
// refused as REVOKED or RATE_LIMITED answers 200 and is metered, but spent nothing; 401/403/429
// on other routes likewise). The usage write path marks each row (usage-rollup-repository.ts).
export const countMeteredRequests: UsageCounter = (db, organizationId, from, to) =>
  usageRepository.countRequests(db, organizationId, from, to, { billableOnly: true });

export const dbOf = (source: Tx | (() => Promise<Tx>)): Promise<Tx> =>
  typeof source === "function" ? source() : Promise.resolve(source);

/**
 * An in-process counter's entry, recounted when older than `refreshMs`: at once while fresh,
 * else after `recount` (which sets loadedAt). Concurrent callers share one recount; the first
 * load must finish before any decision, later refreshes too (they are rare and cheap to wait for).
 */
export function refreshed<E extends { loadedAt: number; loading?: Promise<void> }>(
  e: E,
  now: number,
  refreshMs: number,
  recount: () => Promise<void>,
): E | Promise<E> {
  if (now - e.loadedAt < refreshMs) return e;
  e.loading ??= recount().finally(() => {
    e.loading = undefined;
  });
  return e.loading.then(() => e);
}

interface PgEntry {
  month: string;
  base: number;
  delta: number;
  loadedAt: number;
  loading?: Promise<void>;
}

export class PostgresQuotaCounter implements QuotaCounter {
  private readonly entries = new Map<string, PgEntry>();
  private readonly dbSource: Tx | (() => Promise<Tx>);
  private readonly now: Clock;
  private readonly refreshMs: number;
  private readonly count: UsageCounter;

  constructor(options: {
    db: Tx | (() => Promise<Tx>);
    now?: Clock;
    /** How long a recount is trusted (default 60 s). */
    refreshMs?: number;
    countUsage?: UsageCounter;
  }) {
    this.dbSource = options.db;
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshMs ?? 60_000;
    this.count = options.countUsage ?? countMeteredRequests;
  }

  async consume(organizationId: string, limit: number, cost = 1): Promise<QuotaResult> {
    validateQuota(limit, cost);
    const now = this.now();
    const month = monthOf(now);
    const loaded = this.load(organizationId, now, month);
    const entry = loaded instanceof Promise ? await loaded : loaded;
    const used = entry.base + entry.delta;
    const allowed = used + cost <= limit;
    if (allowed) entry.delta += cost;
    return quotaResult(allowed, limit, entry.base + entry.delta, month.end);
  }

  async peek(organizationId: string, limit: number): Promise<QuotaResult> {
    const now = this.now();
    const month = monthOf(now);
    const entry = await this.load(organizationId, now, month);
    const used = entry.base + entry.delta;
    return quotaResult(used < limit, limit, used, month.end);
  }

  refund(organizationId: string, cost: number): void {
    const entry = this.entries.get(organizationId);
    if (entry?.month === monthOf(this.now()).key) entry.delta -= cost;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  /** The organization's entry for `month`: at once while its count is fresh, else after a recount. */
  private load(orgId: string, now: number, month: Month): PgEntry | Promise<PgEntry> {
    let entry = this.entries.get(orgId);
    if (!entry || entry.month !== month.key) {
      entry = { month: month.key, base: 0, delta: 0, loadedAt: Number.NEGATIVE_INFINITY };
      this.entries.set(orgId, entry);
    }
    const e = entry;
    return refreshed(e, now, this.refreshMs, async () => {
      const counted = await this.count(
        await dbOf(this.dbSource),
        orgId,
        new Date(month.start),
        new Date(month.end),
      );
      e.base = Math.max(counted, e.base + e.delta);
      e.delta = 0;
      e.loadedAt = this.now();
    });
  }
}
