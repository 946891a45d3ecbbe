// Usage records and their aggregates. Every aggregate is computed in SQL; money leaves as a
// six-decimal string, counts as numbers, latencies (percentile_cont) as numbers or null.
import { Prisma, type Tx } from "@/lib/db";
import type { ApiKeyUsage, Environment, KeyStatus } from "@/lib/db/generated/client";
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

export interface UsageInput {
  apiKeyId: string;
  organizationId: string;
  endpoint: string;
  method: string;
  statusCode: number;
  responseTimeMs: number;
  tokens?: number;
  /** USD as a decimal string (e.g. "0.000125") or a Prisma Decimal; never a float. */
  costUsd?: string | Prisma.Decimal;
  ipAddress?: string | null;
  userAgent?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** When the request happened; defaults to now. */
  createdAt?: Date;
}

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

const MAX_STATS_ROWS = 100;
const MAX_DAYS = 1_000;
const MAX_BUCKETS = 10_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function toUsageRecord(row: ApiKeyUsage): UsageRecord {
  return { ...row, costUsd: money(row.costUsd) };
}

function toData(input: UsageInput) {
  return {
    apiKeyId: input.apiKeyId,
    organizationId: input.organizationId,
    endpoint: input.endpoint,
    method: input.method,
    statusCode: input.statusCode,
    responseTimeMs: Math.max(0, Math.round(input.responseTimeMs)),
    tokens: input.tokens ?? 0,
    costUsd: input.costUsd ?? "0",
    ipAddress: input.ipAddress ?? null,
    userAgent: input.userAgent ?? null,
    errorCode: input.errorCode ?? null,
    errorMessage: input.errorMessage ?? null,
    ...(input.createdAt ? { createdAt: input.createdAt } : {}),
  };
}

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
  keyId === undefined ? Prisma.empty : Prisma.sql`AND u."apiKeyId" = ${keyId}::uuid`;

const empty = <T>(): Page<T> => ({ items: [], nextCursor: null });

function monthBounds(year: number, month: number): { start: Date; end: Date } {
  if (!Number.isInteger(year) || !Number.isInteger(month) || month < 1 || month > 12) {
    throw new RangeError("month must be 1..12 and year an integer");
  }
  return { start: new Date(Date.UTC(year, month - 1, 1)), end: new Date(Date.UTC(year, month, 1)) };
}

export const usageRepository = {
  async create(db: Tx, input: UsageInput): Promise<UsageRecord> {
    scopeId(input.organizationId, "organizationId");
    scopeId(input.apiKeyId, "apiKeyId");
    return toUsageRecord(await db.apiKeyUsage.create({ data: toData(input) }));
  },

  /** One batched insert (Prisma splits very large batches itself). Returns rows written. */
  async createMany(db: Tx, inputs: UsageInput[]): Promise<number> {
    if (inputs.length === 0) return 0;
    for (const i of inputs) {
      scopeId(i.organizationId, "organizationId");
      scopeId(i.apiKeyId, "apiKeyId");
    }
    const { count } = await db.apiKeyUsage.createMany({ data: inputs.map(toData) });
    return count;
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
    const [r] = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT COUNT(*) AS requests,
             COUNT(*) FILTER (WHERE u."statusCode" < 400) AS successful,
             COUNT(*) FILTER (WHERE u."statusCode" >= 400) AS errors,
             COALESCE(SUM(u.tokens), 0) AS tokens,
             COALESCE(SUM(u."costUsd"), 0)::numeric(20, 6)::text AS cost,
             AVG(u."responseTimeMs")::float8 AS avg,
             COUNT(DISTINCT u."apiKeyId") AS keys
      FROM "ApiKeyUsage" u
      WHERE u."organizationId" = ${organizationId}::uuid
        AND u."createdAt" >= ${ts(start)} AND u."createdAt" < ${ts(end)}`;
    return {
      ...base,
      requests: num(r.requests),
      successful: num(r.successful),
      errors: num(r.errors),
      tokens: num(r.tokens),
      costUsd: String(r.cost),
      avgResponseTimeMs: r.avg === null ? null : num(r.avg),
      activeKeys: num(r.keys),
    };
  },

  /**
   * One row per UTC day from `start`'s day to the day before `end` (exclusive), days without
   * traffic included as zeros. Percentiles are continuous (interpolated), over response times.
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
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      WITH agg AS (
        SELECT date_trunc('day', u."createdAt") AS day,
               COUNT(*) AS requests,
               COUNT(*) FILTER (WHERE u."statusCode" BETWEEN 200 AND 299) AS s2,
               COUNT(*) FILTER (WHERE u."statusCode" BETWEEN 300 AND 399) AS s3,
               COUNT(*) FILTER (WHERE u."statusCode" BETWEEN 400 AND 499) AS s4,
               COUNT(*) FILTER (WHERE u."statusCode" BETWEEN 500 AND 599) AS s5,
               COUNT(*) FILTER (WHERE u."statusCode" >= 400) AS errors,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p95,
               AVG(u."responseTimeMs")::float8 AS avg,
               COALESCE(SUM(u.tokens), 0) AS tokens,
               COALESCE(SUM(u."costUsd"), 0)::numeric(20, 6)::text AS cost
        FROM "ApiKeyUsage" u
        WHERE u."organizationId" = ${organizationId}::uuid
          AND u."createdAt" >= ${ts(start)} AND u."createdAt" < ${ts(end)}
          ${keyFilter(options.keyId)}
        GROUP BY 1
      )
      SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
             COALESCE(a.requests, 0) AS requests, COALESCE(a.s2, 0) AS s2,
             COALESCE(a.s3, 0) AS s3, COALESCE(a.s4, 0) AS s4, COALESCE(a.s5, 0) AS s5,
             COALESCE(a.errors, 0) AS errors, a.p50, a.p95, a.avg,
             COALESCE(a.tokens, 0) AS tokens, COALESCE(a.cost, '0.000000') AS cost
      FROM generate_series(
             date_trunc('day', ${ts(start)}),
             date_trunc('day', ${ts(end)} - interval '1 millisecond'),
             interval '1 day'
           ) AS d(day)
      LEFT JOIN agg a ON a.day = d.day
      ORDER BY d.day`;
    return rows.map((r) => ({
      date: String(r.date),
      requests: num(r.requests),
      status2xx: num(r.s2),
      status3xx: num(r.s3),
      status4xx: num(r.s4),
      status5xx: num(r.s5),
      errors: num(r.errors),
      p50LatencyMs: r.p50 === null ? null : num(r.p50),
      p95LatencyMs: r.p95 === null ? null : num(r.p95),
      avgLatencyMs: r.avg === null ? null : num(r.avg),
      tokens: num(r.tokens),
      costUsd: String(r.cost),
    }));
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
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT u.endpoint, u.method, COUNT(*) AS requests,
             COUNT(*) FILTER (WHERE u."statusCode" >= 400) AS errors,
             AVG(u."responseTimeMs")::float8 AS avg,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p95,
             COALESCE(SUM(u.tokens), 0) AS tokens,
             COALESCE(SUM(u."costUsd"), 0)::numeric(20, 6)::text AS cost
      FROM "ApiKeyUsage" u
      WHERE u."organizationId" = ${organizationId}::uuid
        AND u."createdAt" >= ${ts(start)} AND u."createdAt" < ${ts(end)}
        ${keyFilter(options.keyId)}
      GROUP BY u.endpoint, u.method
      ORDER BY requests DESC, u.endpoint, u.method
      LIMIT ${limitOf(options.limit, 20)}`;
    return rows.map((r) => ({
      endpoint: String(r.endpoint),
      method: String(r.method),
      requests: num(r.requests),
      errors: num(r.errors),
      avgLatencyMs: r.avg === null ? null : num(r.avg),
      p50LatencyMs: r.p50 === null ? null : num(r.p50),
      p95LatencyMs: r.p95 === null ? null : num(r.p95),
      tokens: num(r.tokens),
      costUsd: String(r.cost),
    }));
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
    const where = Prisma.sql`u."organizationId" = ${organizationId}::uuid
      AND u."createdAt" >= ${ts(start)} AND u."createdAt" < ${ts(end)}
      ${keyFilter(options.keyId)}`;
    const limit = limitOf(options.limit, 20);
    // Sequential on purpose: inside a transaction the queries share one connection anyway.
    const [totals] = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT COUNT(*) AS requests, COUNT(*) FILTER (WHERE u."statusCode" >= 400) AS errors
      FROM "ApiKeyUsage" u WHERE ${where}`;
    const byStatus = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT u."statusCode" AS code, COUNT(*) AS n
      FROM "ApiKeyUsage" u WHERE ${where} AND u."statusCode" >= 400
      GROUP BY u."statusCode" ORDER BY n DESC, code LIMIT ${limit}`;
    const byCode = await db.$queryRaw<Record<string, unknown>[]>`
      SELECT u."errorCode" AS code, COUNT(*) AS n, MAX(u."createdAt") AS last
      FROM "ApiKeyUsage" u WHERE ${where} AND u."statusCode" >= 400
      GROUP BY u."errorCode" ORDER BY n DESC, code NULLS LAST LIMIT ${limit}`;
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
    return db.apiKeyUsage.count({
      where: { organizationId, createdAt: { gte: start, lt: end } },
    });
  },

  /**
   * Deletes records past retention, `batchSize` rows per statement so no single statement holds
   * locks for long. With `days`, one cutoff for everyone; without, each organization's own
   * `usageRetentionDays`. Returns the number of rows deleted.
   */
  async deleteOldRecords(
    db: Tx,
    options: { days?: number; organizationId?: string; now?: Date; batchSize?: number } = {},
  ): Promise<number> {
    const now = options.now ?? new Date();
    const batch = Math.max(1, Math.trunc(options.batchSize ?? 5_000));
    if (options.organizationId !== undefined && !scopeId(options.organizationId)) return 0;
    const orgFilter =
      options.organizationId === undefined
        ? Prisma.empty
        : Prisma.sql`AND u."organizationId" = ${options.organizationId}::uuid`;
    if (options.days !== undefined && (!Number.isFinite(options.days) || options.days < 0)) {
      throw new RangeError("days must be a non-negative number");
    }
    const cutoff =
      options.days === undefined
        ? Prisma.sql`${ts(now)} - make_interval(days => o."usageRetentionDays")`
        : ts(new Date(now.getTime() - options.days * DAY_MS));
    let total = 0;
    for (;;) {
      const n = await db.$executeRaw`
        DELETE FROM "ApiKeyUsage" WHERE id IN (
          SELECT u.id FROM "ApiKeyUsage" u
          JOIN "Organization" o ON o.id = u."organizationId"
          WHERE u."createdAt" < ${cutoff} ${orgFilter}
          LIMIT ${batch}
        )`;
      total += n;
      if (n < batch) return total;
    }
  },

  /**
   * Hour or day buckets (UTC) from `from` to `to`, empty buckets included, with optional key,
   * endpoint and environment filters. Aggregated in SQL.
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
    const endpointFilter =
      q.endpoint === undefined ? Prisma.empty : Prisma.sql`AND u.endpoint = ${q.endpoint}`;
    const envFilter =
      q.environment === undefined
        ? Prisma.empty
        : Prisma.sql`AND EXISTS (SELECT 1 FROM "ApiKey" k WHERE k.id = u."apiKeyId"
            AND k."organizationId" = ${organizationId}::uuid
            AND k.environment::text = ${q.environment})`;
    const rows = await db.$queryRaw<Record<string, unknown>[]>`
      WITH agg AS (
        SELECT date_trunc(${unit}, u."createdAt") AS bucket,
               COUNT(*) AS requests,
               COUNT(*) FILTER (WHERE u."statusCode" >= 400) AS errors,
               COALESCE(SUM(u.tokens), 0) AS tokens,
               COALESCE(SUM(u."costUsd"), 0)::numeric(20, 6)::text AS cost,
               AVG(u."responseTimeMs")::float8 AS avg
        FROM "ApiKeyUsage" u
        WHERE u."organizationId" = ${organizationId}::uuid
          AND u."createdAt" >= ${ts(q.from)} AND u."createdAt" < ${ts(q.to)}
          ${keyFilter(q.keyId)} ${endpointFilter} ${envFilter}
        GROUP BY 1
      )
      SELECT to_char(d.bucket, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS bucket,
             COALESCE(a.requests, 0) AS requests, COALESCE(a.errors, 0) AS errors,
             COALESCE(a.tokens, 0) AS tokens, COALESCE(a.cost, '0.000000') AS cost, a.avg
      FROM generate_series(
             date_trunc(${unit}, ${ts(q.from)}),
             date_trunc(${unit}, ${ts(q.to)} - interval '1 millisecond'),
             ${`1 ${unit}`}::interval
           ) AS d(bucket)
      LEFT JOIN agg a ON a.bucket = d.bucket
      ORDER BY d.bucket`;
    return rows.map((r) => ({
      bucket: String(r.bucket),
      requests: num(r.requests),
      errors: num(r.errors),
      tokens: num(r.tokens),
      costUsd: String(r.cost),
      avgResponseTimeMs: r.avg === null ? 0 : Math.round(num(r.avg) * 100) / 100,
    }));
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
             k.status::text AS status, a.requests, a.errors, a.tokens, a.cost, a.avg
      FROM (
        SELECT u."apiKeyId", COUNT(*) AS requests,
               COUNT(*) FILTER (WHERE u."statusCode" >= 400) AS errors,
               COALESCE(SUM(u.tokens), 0) AS tokens,
               COALESCE(SUM(u."costUsd"), 0)::numeric(20, 6)::text AS cost,
               AVG(u."responseTimeMs")::float8 AS avg
        FROM "ApiKeyUsage" u
        WHERE u."organizationId" = ${organizationId}::uuid
          AND u."createdAt" >= ${ts(start)} AND u."createdAt" < ${ts(end)}
        GROUP BY u."apiKeyId"
      ) AS a
      JOIN "ApiKey" k ON k.id = a."apiKeyId" AND k."organizationId" = ${organizationId}::uuid
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
      avgLatencyMs: r.avg === null ? null : num(r.avg),
    }));
  },
};
