// Usage records and their aggregates. Writes go through usageRollupRepository.insertBatch, which
// inserts raw rows and updates the rollups in one statement. Every aggregate reads the rollups
// (never the raw rows), in SQL: counts and sums are summed, latency histograms are summed per
// bucket in SQL and the percentiles computed from those few numbers (lib/usage/histogram.ts,
// within LATENCY_RELATIVE_ERROR of percentile_cont over the raw rows). Rollups resolve time to
// whole hours: see rangeParts. Money leaves as a six-decimal string, counts as numbers.
import { Prisma, type Tx } from "@/lib/db";
import type { ApiKeyUsage, Environment, KeyStatus } from "@/lib/db/generated/client";
import { toUsageRow, type UsageEvent, type UsageRow } from "@/lib/usage/event";
import { type LatencyHistogram, percentile } from "@/lib/usage/histogram";
import {
  afterCursor,
  money,
  newestFirst,
  num,
  type Page,
  type PageOptions,
  pageSize,
  scopeId,
  toPage,
  ts,
} from "./shared";
import {
  type RollupLevel,
  rangeFilter,
  rangeParts,
  rollupWhere,
  usageRollupRepository,
} from "./usage-rollup-repository";

export { LATENCY_RELATIVE_ERROR } from "@/lib/usage/histogram";

export type UsageRecord = Omit<ApiKeyUsage, "costUsd"> & { costUsd: string };

export interface UsageRange extends PageOptions {
  /** Inclusive. */
  start?: Date;
  /** Exclusive. */
  end?: Date;
}

export interface UsageSummary {
  year: number;
  month: number;
  start: Date;
  end: Date;
  requests: number;
  successful: number;
  errors: number;
  tokens: number;
  costUsd: string;
  avgResponseTimeMs: number | null;
  /** Distinct keys that made a request. */
  activeKeys: number;
}

export interface DailyStat {
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
  requests: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  /** Status 400 and above. */
  errors: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  avgLatencyMs: number | null;
  tokens: number;
  costUsd: string;
}

export interface EndpointStat {
  endpoint: string;
  method: string;
  requests: number;
  errors: number;
  avgLatencyMs: number | null;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  tokens: number;
  costUsd: string;
}

export interface ErrorStats {
  requests: number;
  errors: number;
  /** errors / requests, 0 when there were no requests. */
  errorRate: number;
  byStatusCode: { statusCode: number; count: number }[];
  /** Error codes (null when the row had none), most frequent first. */
  byErrorCode: { errorCode: string | null; count: number; lastSeenAt: Date }[];
}

export interface TimeSeriesPoint {
  /** Bucket start, ISO 8601 UTC. */
  bucket: string;
  requests: number;
  errors: number;
  tokens: number;
  costUsd: string;
  /** Rounded to 2 decimals; 0 for an empty bucket. */
  avgResponseTimeMs: number;
}

export interface TimeSeriesQuery {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  granularity: "hour" | "day";
  keyId?: string;
  endpoint?: string;
  environment?: Environment;
}

export interface TopConsumer {
  apiKeyId: string;
  name: string;
  prefix: string;
  hint: string;
  environment: Environment;
  status: KeyStatus;
  requests: number;
  errors: number;
  tokens: number;
  costUsd: string;
  avgLatencyMs: number | null;
}

/** Filters of a range read: the rollup level is the coarsest that has the filtered dimensions. */
export interface UsageFilters {
  keyId?: string;
  endpoint?: string;
  environment?: Environment;
}

/** Totals over a whole range, percentiles from the range's merged latency histogram. */
export interface RangeStats {
  requests: number;
  /** Status 400 and above. */
  errors: number;
  /** errors / requests, 0 when there were no requests. */
  errorRate: number;
  /**
   * percentile_cont over every request in the range (within LATENCY_RELATIVE_ERROR), from the
   * sum of all the range's histograms: not an average of daily percentiles.
   */
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  avgLatencyMs: number | null;
  tokens: number;
  costUsd: string;
}

const MAX_STATS_ROWS = 100;
const MAX_DAYS = 1_000;
const MAX_BUCKETS = 10_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function toUsageRecord(row: ApiKeyUsage): UsageRecord {
  return { ...row, costUsd: money(row.costUsd) };
}

/** The row for an event (the one normalizer, lib/usage/event.ts); throws when malformed. */
function toRow(event: UsageEvent): UsageRow {
  const row = toUsageRow(event);
  if (!row) throw new RangeError("usage event: malformed ids or status code");
  return row;
}

/** Rows per write statement in createMany. */
const WRITE_CHUNK = 5_000;

function range(options: { start?: Date; end?: Date }) {
  if (!options.start && !options.end) return {};
  return {
    createdAt: {
      ...(options.start ? { gte: options.start } : {}),
      ...(options.end ? { lt: options.end } : {}),
    },
  };
}

function limitOf(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(MAX_STATS_ROWS, Math.max(1, Math.trunc(limit)));
}

const keyFilter = (keyId: string | undefined) =>
  keyId === undefined ? Prisma.empty : Prisma.sql`AND r."apiKeyId" = ${keyId}::uuid`;

/** The rollup level that has just the dimensions the filters need. */
function levelFor(f: UsageFilters): RollupLevel {
  const perKey = f.keyId !== undefined || f.environment !== undefined;
  if (f.endpoint !== undefined) return perKey ? "KEY_ENDPOINT" : "ENDPOINT";
  return perKey ? "KEY" : "ORGANIZATION";
}

/** The SQL filters of `r` rows (after rollupWhere) for a key, an endpoint and an environment. */
function usageFilters(organizationId: string, f: UsageFilters): Prisma.Sql {
  const endpoint =
    f.endpoint === undefined ? Prisma.empty : Prisma.sql`AND r.endpoint = ${f.endpoint}`;
  const environment =
    f.environment === undefined
      ? Prisma.empty
      : Prisma.sql`AND EXISTS (SELECT 1 FROM "ApiKey" k WHERE k.id = r."apiKeyId"
          AND k."organizationId" = ${organizationId}::uuid
          AND k.environment::text = ${f.environment})`;
  return Prisma.sql`${keyFilter(f.keyId)} ${endpoint} ${environment}`;
}

/** A histogram from SQL arrays (int[] buckets, bigint[] counts) and the observed min / max. */
function histogram(r: Record<string, unknown>): LatencyHistogram {
  const list = (v: unknown): number[] => (Array.isArray(v) ? v.map((x) => Number(x)) : []);
  return {
    buckets: list(r.buckets),
    counts: list(r.counts),
    min: r.lat_min === null || r.lat_min === undefined ? null : num(r.lat_min),
    max: r.lat_max === null || r.lat_max === undefined ? null : num(r.lat_max),
  };
}

/** Mean latency from a sum and a count, null without requests. */
const mean = (sum: unknown, n: unknown): number | null => (num(n) > 0 ? num(sum) / num(n) : null);

/** The per-bucket histogram sums of a `src` CTE, grouped by `by`, as sorted arrays. */
function histogramCte(by: string): Prisma.Sql {
  const cols = Prisma.raw(by);
  return Prisma.sql`SELECT ${cols}, array_agg(x.b ORDER BY x.b) AS buckets,
      array_agg(x.n ORDER BY x.b) AS counts
    FROM (SELECT ${cols}, t.b, sum(t.n)::bigint AS n
          FROM src CROSS JOIN LATERAL unnest(src."latencyBuckets", src."latencyCounts") AS t(b, n)
          GROUP BY ${cols}, t.b) AS x
    GROUP BY ${cols}`;
}

const empty = <T>(): Page<T> => ({ items: [], nextCursor: null });

function monthBounds(year: number, month: number): { start: Date; end: Date } {
  if (!Number.isInteger(year) || !Number.isInteger(month) || month < 1 || month > 12) {
    throw new RangeError("month must be 1..12 and year an integer");
  }
  return { start: new Date(Date.UTC(year, month - 1, 1)), end: new Date(Date.UTC(year, month, 1)) };
}

export const usageRepository = {
  /** One record, written through the same statement as batches (rollups included). */
  async create(db: Tx, input: UsageEvent): Promise<UsageRecord> {
    scopeId(input.organizationId, "organizationId");
    scopeId(input.apiKeyId, "apiKeyId");
    const row = toRow(input);
    await usageRollupRepository.insertBatch(db, [row]);
    return toUsageRecord(await db.apiKeyUsage.findUniqueOrThrow({ where: { id: row.id } }));
  },

  /**
   * Batched insert, 5,000 rows per statement, each statement also updating the rollups and the
   * keys' lastUsedAt / requestCount. Returns rows written.
   */
  async createMany(db: Tx, inputs: UsageEvent[]): Promise<number> {
    if (inputs.length === 0) return 0;
    for (const i of inputs) {
      scopeId(i.organizationId, "organizationId");
      scopeId(i.apiKeyId, "apiKeyId");
    }
    let written = 0;
    for (let i = 0; i < inputs.length; i += WRITE_CHUNK) {
      const rows = inputs.slice(i, i + WRITE_CHUNK).map(toRow);
      written += await usageRollupRepository.insertBatch(db, rows);
    }
    return written;
  },

  /** One key's records, newest first; another organization's key yields an empty page. */
  async getByKey(
    db: Tx,
    organizationId: string,
    apiKeyId: string,
    options: UsageRange = {},
  ): Promise<Page<UsageRecord>> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(apiKeyId, "apiKeyId")) {
      return empty();
    }
    const size = pageSize(options.limit);
    const rows = await db.apiKeyUsage.findMany({
      where: {
        AND: [{ organizationId, apiKeyId, ...range(options) }, afterCursor(options.cursor)],
      },
      orderBy: newestFirst,
      take: size + 1,
    });
    return toPage(rows, size, toUsageRecord);
  },

  /** The organization's records, newest first, optionally for one key. */
  async getByOrganization(
    db: Tx,
    organizationId: string,
    options: UsageRange & { keyId?: string } = {},
  ): Promise<Page<UsageRecord>> {
    if (!scopeId(organizationId, "organizationId")) return empty();
    if (options.keyId !== undefined && !scopeId(options.keyId, "keyId")) return empty();
    const size = pageSize(options.limit);
    const rows = await db.apiKeyUsage.findMany({
      where: {
        AND: [
          {
            organizationId,
            ...(options.keyId !== undefined ? { apiKeyId: options.keyId } : {}),
            ...range(options),
          },
          afterCursor(options.cursor),
        ],
      },
      orderBy: newestFirst,
      take: size + 1,
    });
    return toPage(rows, size, toUsageRecord);
  },

  /** Totals for one UTC calendar month (`month` 1..12). */
  async getSummary(
    db: Tx,
    organizationId: string,
    year: number,
    month: number,
  ): Promise<UsageSummary> {
    const { start, end } = monthBounds(year, month);
    const base: UsageSummary = {
      year,
      month,
      start,
      end,
      requests: 0,
      successful: 0,
      errors: 0,
      tokens: 0,
      costUsd: "0.000000",
      avgResponseTimeMs: null,
      activeKeys: 0,
    };
    if (!scopeId(organizationId, "organizationId")) return base;
    const parts = rangeParts(start, end);
    const [r] = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT COALESCE(SUM(r.requests), 0) AS requests,
             COALESCE(SUM(r.errors), 0) AS errors,
             COALESCE(SUM(r.tokens), 0) AS tokens,
             round(COALESCE(SUM(r."costUsd"), 0), 6)::text AS cost,
             COALESCE(SUM(r."latencySumMs"), 0) AS lat_sum,
             (SELECT COUNT(DISTINCT k."apiKeyId") FROM "UsageRollup" k
               WHERE ${rollupWhere("k", organizationId, "KEY", parts)} AND k.requests > 0) AS keys
      FROM "UsageRollup" r
      WHERE ${rollupWhere("r", organizationId, "ORGANIZATION", parts)}`;
    const requests = num(r.requests);
    const errors = num(r.errors);
    return {
      ...base,
      requests,
      successful: requests - errors,
      errors,
      tokens: num(r.tokens),
      costUsd: String(r.cost),
      avgResponseTimeMs: mean(r.lat_sum, requests),
      activeKeys: num(r.keys),
    };
  },

  /**
   * One row per UTC day from `start`'s day to the day before `end` (exclusive), days without
   * traffic included as zeros. Percentiles follow percentile_cont (interpolated) and are read
   * from merged histograms: within LATENCY_RELATIVE_ERROR of the exact value.
   */
  async getDailyStats(
    db: Tx,
    organizationId: string,
    start: Date,
    end: Date,
    options: { keyId?: string } = {},
  ): Promise<DailyStat[]> {
    if (!scopeId(organizationId, "organizationId")) return [];
    if (options.keyId !== undefined && !scopeId(options.keyId, "keyId")) return [];
    if (end.getTime() <= start.getTime()) return [];
    if (end.getTime() - start.getTime() > MAX_DAYS * DAY_MS) {
      throw new RangeError(`getDailyStats covers at most ${MAX_DAYS} days`);
    }
    const level: RollupLevel = options.keyId === undefined ? "ORGANIZATION" : "KEY";
    const where = Prisma.sql`${rollupWhere("r", organizationId, level, rangeParts(start, end))}
      ${keyFilter(options.keyId)}`;
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      WITH agg AS (
        SELECT date_trunc('day', r."bucketStart") AS day, SUM(r.requests) AS requests,
               SUM(r.status2xx) AS s2, SUM(r.status3xx) AS s3, SUM(r.status4xx) AS s4,
               SUM(r.status5xx) AS s5, SUM(r.errors) AS errors,
               SUM(r."latencySumMs") AS lat_sum, MIN(r."latencyMinMs") AS lat_min,
               MAX(r."latencyMaxMs") AS lat_max, SUM(r.tokens) AS tokens,
               round(SUM(r."costUsd"), 6)::text AS cost
        FROM "UsageRollup" r
        WHERE ${where}
        GROUP BY 1
      ), src AS (
        -- Histograms grouped by day number (an integer groups faster than a timestamp).
        SELECT floor(date_part('epoch', r."bucketStart") / 86400)::int AS dn,
               r."latencyBuckets", r."latencyCounts"
        FROM "UsageRollup" r
        WHERE ${where}
      ), hist AS (${histogramCte("dn")})
      SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
             COALESCE(a.requests, 0) AS requests, COALESCE(a.s2, 0) AS s2,
             COALESCE(a.s3, 0) AS s3, COALESCE(a.s4, 0) AS s4, COALESCE(a.s5, 0) AS s5,
             COALESCE(a.errors, 0) AS errors, a.lat_sum, a.lat_min, a.lat_max,
             COALESCE(a.tokens, 0) AS tokens, COALESCE(a.cost, '0.000000') AS cost,
             h.buckets, h.counts
      FROM generate_series(
             date_trunc('day', ${ts(start)}),
             date_trunc('day', ${ts(end)} - interval '1 millisecond'),
             interval '1 day'
           ) AS d(day)
      LEFT JOIN agg a ON a.day = d.day
      LEFT JOIN hist h ON h.dn = floor(date_part('epoch', d.day) / 86400)::int
      ORDER BY d.day`;
    return rows.map((r) => {
      const h = histogram(r);
      return {
        date: String(r.date),
        requests: num(r.requests),
        status2xx: num(r.s2),
        status3xx: num(r.s3),
        status4xx: num(r.s4),
        status5xx: num(r.s5),
        errors: num(r.errors),
        p50LatencyMs: percentile(h, 0.5),
        p95LatencyMs: percentile(h, 0.95),
        avgLatencyMs: mean(r.lat_sum, r.requests),
        tokens: num(r.tokens),
        costUsd: String(r.cost),
      };
    });
  },

  /**
   * Totals for the whole range [start, end) (resolved to whole hours, see rangeParts), with
   * optional key, endpoint and environment filters. p50 / p95 come from the sum of every rollup
   * histogram in the range, merged in SQL like the daily and endpoint reads: percentile_cont
   * over all the range's requests within LATENCY_RELATIVE_ERROR, whatever the traffic per day.
   */
  async getRangeStats(
    db: Tx,
    organizationId: string,
    start: Date,
    end: Date,
    filters: UsageFilters = {},
  ): Promise<RangeStats> {
    const none: RangeStats = {
      requests: 0,
      errors: 0,
      errorRate: 0,
      p50LatencyMs: null,
      p95LatencyMs: null,
      avgLatencyMs: null,
      tokens: 0,
      costUsd: "0.000000",
    };
    if (!scopeId(organizationId, "organizationId")) return none;
    if (filters.keyId !== undefined && !scopeId(filters.keyId, "keyId")) return none;
    if (end.getTime() <= start.getTime()) return none;
    const [r] = await db.$queryRaw<Record<string, unknown>[]>`
      WITH src AS (
        SELECT 0 AS g, r.requests, r.errors, r."latencySumMs", r."latencyMinMs",
               r."latencyMaxMs", r.tokens, r."costUsd", r."latencyBuckets", r."latencyCounts"
        FROM "UsageRollup" r
        WHERE ${rollupWhere("r", organizationId, levelFor(filters), rangeParts(start, end))}
          ${usageFilters(organizationId, filters)}
      ), hist AS (${histogramCte("g")})
      SELECT COALESCE(SUM(s.requests), 0) AS requests, COALESCE(SUM(s.errors), 0) AS errors,
             SUM(s."latencySumMs") AS lat_sum, MIN(s."latencyMinMs") AS lat_min,
             MAX(s."latencyMaxMs") AS lat_max, COALESCE(SUM(s.tokens), 0) AS tokens,
             round(COALESCE(SUM(s."costUsd"), 0), 6)::text AS cost,
             (SELECT h.buckets FROM hist h) AS buckets, (SELECT h.counts FROM hist h) AS counts
      FROM src s`;
    const h = histogram(r);
    const requests = num(r.requests);
    const errors = num(r.errors);
    return {
      requests,
      errors,
      errorRate: requests ? errors / requests : 0,
      p50LatencyMs: percentile(h, 0.5),
      p95LatencyMs: percentile(h, 0.95),
      avgLatencyMs: mean(r.lat_sum, requests),
      tokens: num(r.tokens),
      costUsd: String(r.cost),
    };
  },

  /** Per endpoint and method, busiest first (at most `limit`, default 20, max 100). */
  async getEndpointStats(
    db: Tx,
    organizationId: string,
    start: Date,
    end: Date,
    options: { keyId?: string; limit?: number } = {},
  ): Promise<EndpointStat[]> {
    if (!scopeId(organizationId, "organizationId")) return [];
    if (options.keyId !== undefined && !scopeId(options.keyId, "keyId")) return [];
    const level: RollupLevel = options.keyId === undefined ? "ENDPOINT" : "KEY_ENDPOINT";
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      WITH agg AS (
        SELECT row_number() OVER (ORDER BY SUM(r.requests) DESC, r.endpoint, r.method) AS idx,
               r.endpoint, r.method, SUM(r.requests) AS requests, SUM(r.errors) AS errors,
               SUM(r."latencySumMs") AS lat_sum, MIN(r."latencyMinMs") AS lat_min,
               MAX(r."latencyMaxMs") AS lat_max, SUM(r.tokens) AS tokens,
               round(SUM(r."costUsd"), 6)::text AS cost
        FROM "UsageRollup" r
        WHERE ${rollupWhere("r", organizationId, level, rangeParts(start, end))}
          ${keyFilter(options.keyId)}
        GROUP BY r.endpoint, r.method
        ORDER BY idx
        LIMIT ${limitOf(options.limit, 20)}
      ), src AS (
        -- Histograms of the listed endpoints only, grouped by a small integer, not by text.
        SELECT a.idx, r."latencyBuckets", r."latencyCounts"
        FROM "UsageRollup" r
        JOIN agg a ON a.endpoint = r.endpoint AND a.method = r.method
        WHERE ${rollupWhere("r", organizationId, level, rangeParts(start, end))}
          ${keyFilter(options.keyId)}
      ), hist AS (${histogramCte("idx")})
      SELECT a.*, h.buckets, h.counts
      FROM agg a LEFT JOIN hist h ON h.idx = a.idx
      ORDER BY a.idx`;
    return rows.map((r) => {
      const h = histogram(r);
      return {
        endpoint: String(r.endpoint),
        method: String(r.method),
        requests: num(r.requests),
        errors: num(r.errors),
        avgLatencyMs: mean(r.lat_sum, r.requests),
        p50LatencyMs: percentile(h, 0.5),
        p95LatencyMs: percentile(h, 0.95),
        tokens: num(r.tokens),
        costUsd: String(r.cost),
      };
    });
  },

  /** Error totals and breakdowns (status 400 and above) in the range. */
  async getErrorStats(
    db: Tx,
    organizationId: string,
    start: Date,
    end: Date,
    options: { keyId?: string; limit?: number } = {},
  ): Promise<ErrorStats> {
    const result: ErrorStats = {
      requests: 0,
      errors: 0,
      errorRate: 0,
      byStatusCode: [],
      byErrorCode: [],
    };
    if (!scopeId(organizationId, "organizationId")) return result;
    if (options.keyId !== undefined && !scopeId(options.keyId, "keyId")) return result;
    const parts = rangeParts(start, end);
    const level: RollupLevel = options.keyId === undefined ? "ORGANIZATION" : "KEY";
    const errWhere = Prisma.sql`r."organizationId" = ${organizationId}::uuid
      AND ${rangeFilter("r", parts)} ${keyFilter(options.keyId)}`;
    const limit = limitOf(options.limit, 20);
    // Sequential on purpose: inside a transaction the queries share one connection anyway.
    const [totals] = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT COALESCE(SUM(r.requests), 0) AS requests, COALESCE(SUM(r.errors), 0) AS errors
      FROM "UsageRollup" r
      WHERE ${rollupWhere("r", organizationId, level, parts)} ${keyFilter(options.keyId)}`;
    const byStatus = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT r."statusCode" AS code, SUM(r.count) AS n
      FROM "UsageErrorRollup" r WHERE ${errWhere}
      GROUP BY r."statusCode" ORDER BY n DESC, code LIMIT ${limit}`;
    const byCode = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT NULLIF(r."errorCode", '') AS code, SUM(r.count) AS n, MAX(r."lastSeenAt") AS last
      FROM "UsageErrorRollup" r WHERE ${errWhere}
      GROUP BY NULLIF(r."errorCode", '') ORDER BY n DESC, code NULLS LAST LIMIT ${limit}`;
    result.requests = num(totals.requests);
    result.errors = num(totals.errors);
    result.errorRate = result.requests ? result.errors / result.requests : 0;
    result.byStatusCode = byStatus.map((r) => ({ statusCode: num(r.code), count: num(r.n) }));
    result.byErrorCode = byCode.map((r) => ({
      errorCode: r.code === null ? null : String(r.code),
      count: num(r.n),
      lastSeenAt: r.last as Date,
    }));
    return result;
  },

  /** Requests in the current UTC calendar month: what the monthly quota is checked against. */
  async getMonthlyUsage(db: Tx, organizationId: string, now: Date = new Date()): Promise<number> {
    if (!scopeId(organizationId, "organizationId")) return 0;
    const { start, end } = monthBounds(now.getUTCFullYear(), now.getUTCMonth() + 1);
    const [r] = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT COALESCE(SUM(r.requests), 0) AS requests FROM "UsageRollup" r
      WHERE ${rollupWhere("r", organizationId, "ORGANIZATION", rangeParts(start, end))}`;
    return num(r?.requests);
  },

  /**
   * Metered cost per key in [from, to) (whole hours, see rangeParts), from the KEY-level rollups:
   * what the spend caps are reconciled from (lib/ratelimit/spend.ts). Six-decimal strings.
   */
  async costByKey(
    db: Tx,
    organizationId: string,
    from: Date,
    to: Date,
  ): Promise<{ apiKeyId: string; costUsd: string }[]> {
    if (!scopeId(organizationId, "organizationId")) return [];
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT r."apiKeyId"::text AS key, COALESCE(SUM(r."costUsd"), 0)::text AS cost
      FROM "UsageRollup" r
      WHERE ${rollupWhere("r", organizationId, "KEY", rangeParts(from, to))}
      GROUP BY r."apiKeyId"`;
    return rows.map((r) => ({ apiKeyId: String(r.key), costUsd: String(r.cost) }));
  },

  /**
   * Requests in [from, to) (resolved to whole hours, see rangeParts) from rollups, leaving out
   * the given status codes, or with `billableOnly` only the requests that spent monthly quota
   * (UsageRollup.billable: what the monthly quota's recount uses, since a verify the key check
   * refused answers 200 but spent nothing). Works for any past month, raw rows kept or not.
   */
  async countRequests(
    db: Tx,
    organizationId: string,
    from: Date,
    to: Date,
    options: { excludeStatusCodes?: number[]; billableOnly?: boolean } = {},
  ): Promise<number> {
    if (!scopeId(organizationId, "organizationId")) return 0;
    const parts = rangeParts(from, to);
    if (options.billableOnly) {
      const [b] = await db.$queryRaw<Record<string, unknown>[]>`
        SELECT COALESCE(SUM(r.billable), 0) AS n FROM "UsageRollup" r
        WHERE ${rollupWhere("r", organizationId, "ORGANIZATION", parts)}`;
      return num(b?.n);
    }
    const excluded = (options.excludeStatusCodes ?? []).filter((c) => Number.isInteger(c));
    const [r] = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT COALESCE((SELECT SUM(r.requests) FROM "UsageRollup" r
               WHERE ${rollupWhere("r", organizationId, "ORGANIZATION", parts)}), 0)
           - COALESCE((SELECT SUM(r.count) FROM "UsageErrorRollup" r
               WHERE r."organizationId" = ${organizationId}::uuid AND ${rangeFilter("r", parts)}
                 AND r."statusCode" = ANY(${excluded}::int[])), 0) AS n`;
    return num(r?.n);
  },

  /**
   * Deletes raw records past retention, `batchSize` rows per statement (default 5,000) so no
   * statement holds locks for long, organization by organization along the
   * (organizationId, createdAt) index. With `days`, one cutoff for everyone; without, each
   * organization's own `usageRetentionDays`. Rollups are not touched (usage-retention.ts prunes
   * them on their own, longer, schedule). Returns the number of rows deleted.
   */
  async deleteOldRecords(
    db: Tx,
    options: {
      days?: number;
      organizationId?: string;
      now?: Date;
      batchSize?: number;
      /** Stops between statements (what was deleted stays deleted). */
      signal?: AbortSignal;
    } = {},
  ): Promise<number> {
    const now = options.now ?? new Date();
    const batch = Math.max(1, Math.trunc(options.batchSize ?? 5_000));
    if (options.organizationId !== undefined && !scopeId(options.organizationId)) return 0;
    if (options.days !== undefined && (!Number.isFinite(options.days) || options.days < 0)) {
      throw new RangeError("days must be a non-negative number");
    }
    const deleteBefore = async (organizationId: string | null, cutoff: Date) => {
      const orgFilter =
        organizationId === null
          ? Prisma.empty
          : Prisma.sql`AND u."organizationId" = ${organizationId}::uuid`;
      let total = 0;
      for (;;) {
        const n = await db.$executeRaw`
          DELETE FROM "ApiKeyUsage" WHERE id IN (
            SELECT u.id FROM "ApiKeyUsage" u
            WHERE u."createdAt" < ${ts(cutoff)} ${orgFilter}
            LIMIT ${batch}
          )`;
        total += n;
        if (n < batch || options.signal?.aborted) return total;
      }
    };
    if (options.days !== undefined) {
      const cutoff = new Date(now.getTime() - options.days * DAY_MS);
      return deleteBefore(options.organizationId ?? null, cutoff);
    }
    const orgFilter =
      options.organizationId === undefined
        ? Prisma.empty
        : Prisma.sql`AND o.id = ${options.organizationId}::uuid`;
    // Only organizations that have something to delete (one index probe each).
    const orgs = await db.$queryRaw<{ id: string; days: number }[]>`
      SELECT o.id, o."usageRetentionDays" AS days FROM "Organization" o
      WHERE EXISTS (SELECT 1 FROM "ApiKeyUsage" u WHERE u."organizationId" = o.id
        AND u."createdAt" < ${ts(now)} - make_interval(days => o."usageRetentionDays"))
        ${orgFilter}
      ORDER BY o.id`;
    let total = 0;
    for (const o of orgs) {
      if (options.signal?.aborted) break;
      total += await deleteBefore(o.id, new Date(now.getTime() - num(o.days) * DAY_MS));
    }
    return total;
  },

  /**
   * Hour or day buckets (UTC) from `from` to `to`, empty buckets included, with optional key,
   * endpoint and environment filters. Read from the rollup level that has just the dimensions
   * the filters need.
   */
  async getTimeSeries(
    db: Tx,
    organizationId: string,
    q: TimeSeriesQuery,
  ): Promise<TimeSeriesPoint[]> {
    if (!scopeId(organizationId, "organizationId")) return [];
    if (q.keyId !== undefined && !scopeId(q.keyId, "keyId")) return [];
    if (q.granularity !== "hour" && q.granularity !== "day") {
      throw new RangeError('granularity must be "hour" or "day"');
    }
    if (q.to.getTime() <= q.from.getTime()) return [];
    const stepMs = q.granularity === "hour" ? HOUR_MS : DAY_MS;
    if ((q.to.getTime() - q.from.getTime()) / stepMs > MAX_BUCKETS) {
      throw new RangeError(`getTimeSeries returns at most ${MAX_BUCKETS} buckets`);
    }
    const unit = q.granularity;
    const level = levelFor(q);
    const parts = rangeParts(q.from, q.to, unit === "hour");
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      WITH agg AS (
        SELECT date_trunc(${unit}, r."bucketStart") AS bucket,
               SUM(r.requests) AS requests, SUM(r.errors) AS errors,
               SUM(r.tokens) AS tokens, round(SUM(r."costUsd"), 6)::text AS cost,
               SUM(r."latencySumMs") AS lat_sum
        FROM "UsageRollup" r
        WHERE ${rollupWhere("r", organizationId, level, parts)} ${usageFilters(organizationId, q)}
        GROUP BY 1
      )
      SELECT to_char(d.bucket, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS bucket,
             COALESCE(a.requests, 0) AS requests, COALESCE(a.errors, 0) AS errors,
             COALESCE(a.tokens, 0) AS tokens, COALESCE(a.cost, '0.000000') AS cost, a.lat_sum
      FROM generate_series(
             date_trunc(${unit}, ${ts(q.from)}),
             date_trunc(${unit}, ${ts(q.to)} - interval '1 millisecond'),
             ${`1 ${unit}`}::interval
           ) AS d(bucket)
      LEFT JOIN agg a ON a.bucket = d.bucket
      ORDER BY d.bucket`;
    return rows.map((r) => {
      const avg = mean(r.lat_sum, r.requests);
      return {
        bucket: String(r.bucket),
        requests: num(r.requests),
        errors: num(r.errors),
        tokens: num(r.tokens),
        costUsd: String(r.cost),
        avgResponseTimeMs: avg === null ? 0 : Math.round(avg * 100) / 100,
      };
    });
  },

  /** The organization's keys with the most requests in the range. */
  async getTopConsumers(
    db: Tx,
    organizationId: string,
    start: Date,
    end: Date,
    limit = 10,
  ): Promise<TopConsumer[]> {
    if (!scopeId(organizationId, "organizationId")) return [];
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT k.id, k.name, k.prefix, k.hint, k.environment::text AS environment,
             k.status::text AS status, a.requests, a.errors, a.tokens, a.cost, a.lat_sum
      FROM (
        SELECT r."apiKeyId", SUM(r.requests) AS requests, SUM(r.errors) AS errors,
               SUM(r.tokens) AS tokens, round(SUM(r."costUsd"), 6)::text AS cost,
               SUM(r."latencySumMs") AS lat_sum
        FROM "UsageRollup" r
        WHERE ${rollupWhere("r", organizationId, "KEY", rangeParts(start, end))}
        GROUP BY r."apiKeyId"
      ) AS a
      JOIN "ApiKey" k ON k.id = a."apiKeyId" AND k."organizationId" = ${organizationId}::uuid
      WHERE a.requests > 0
      ORDER BY a.requests DESC, k.id
      LIMIT ${limitOf(limit, 10)}`;
    return rows.map((r) => ({
      apiKeyId: String(r.id),
      name: String(r.name),
      prefix: String(r.prefix),
      hint: String(r.hint),
      environment: r.environment as Environment,
      status: r.status as KeyStatus,
      requests: num(r.requests),
      errors: num(r.errors),
      tokens: num(r.tokens),
      costUsd: String(r.cost),
      avgLatencyMs: mean(r.lat_sum, r.requests),
    }));
  },
};
