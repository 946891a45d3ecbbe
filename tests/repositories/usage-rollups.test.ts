// Rollups are written with the raw rows, by every write path, and agree with them exactly
// (counts, sums, histograms); reads from rollups match SQL over the raw rows (percentiles within
// the documented error).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LATENCY_RELATIVE_ERROR,
  usageRepository as usage,
} from "@/lib/repositories/usage-repository";
import {
  ALL_KEYS,
  rangeParts,
  usageRollupRepository as rollups,
} from "@/lib/repositories/usage-rollup-repository";
import { UsageRecorder } from "@/lib/services/usage-recorder";
import type { UsageEvent, UsageRow } from "@/lib/usage/event";
import { histogramOf } from "@/lib/usage/histogram";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { makeKey, makeOrg } from "./fixtures";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 4, 10); // 2026-05-10, a Sunday

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Db = TestDatabase["prisma"];

/**
 * Every rollup row of the organization against the raw rows it summarizes: same groups, same
 * counts and sums, same histogram (bucket by bucket), same error breakdown.
 */
async function expectRollupsMatchRaw(db: Db, organizationId: string) {
  const raw = await db.apiKeyUsage.findMany({ where: { organizationId } });
  type Acc = {
    values: number[];
    n: number;
    s: number[];
    errors: number;
    billable: number;
    tokens: number;
    cost: bigint;
  };
  const expected = new Map<string, Acc>();
  const errExpected = new Map<string, { count: number; last: number }>();
  for (const r of raw) {
    const t = r.createdAt.getTime();
    const hour = Math.floor(t / HOUR) * HOUR;
    const day = Math.floor(t / DAY) * DAY;
    for (const [g, start] of [
      ["HOUR", hour],
      ["DAY", day],
    ] as const) {
      for (const [level, k, e, m] of [
        ["KEY_ENDPOINT", r.apiKeyId, r.endpoint, r.method],
        ["KEY", r.apiKeyId, "", ""],
        ["ENDPOINT", ALL_KEYS, r.endpoint, r.method],
        ["ORGANIZATION", ALL_KEYS, "", ""],
      ]) {
        const id = [g, level, start, k, e, m].join("|");
        const acc = expected.get(id) ?? {
          values: [],
          n: 0,
          s: [0, 0, 0, 0],
          errors: 0,
          billable: 0,
          tokens: 0,
          cost: 0n,
        };
        acc.values.push(r.responseTimeMs);
        acc.n++;
        if (r.billable) acc.billable++;
        const cls = Math.floor(r.statusCode / 100) - 2;
        if (cls >= 0 && cls < 4) acc.s[cls]++;
        if (r.statusCode >= 400) acc.errors++;
        acc.tokens += r.tokens;
        acc.cost += BigInt(r.costUsd.mul(1_000_000).toFixed(0));
        expected.set(id, acc);
      }
      if (r.statusCode >= 400) {
        const id = [g, start, r.apiKeyId, r.statusCode, r.errorCode ?? ""].join("|");
        const acc = errExpected.get(id) ?? { count: 0, last: 0 };
        acc.count++;
        acc.last = Math.max(acc.last, t);
        errExpected.set(id, acc);
      }
    }
  }
  const rows = await db.usageRollup.findMany({ where: { organizationId } });
  expect(rows.length).toBe(expected.size);
  for (const row of rows) {
    const id = [
      row.granularity,
      row.level,
      row.bucketStart.getTime(),
      row.apiKeyId,
      row.endpoint,
      row.method,
    ].join("|");
    const want = expected.get(id);
    expect(want, id).toBeDefined();
    if (!want) continue;
    const h = histogramOf(want.values);
    expect({
      requests: Number(row.requests),
      s: [row.status2xx, row.status3xx, row.status4xx, row.status5xx].map(Number),
      errors: Number(row.errors),
      billable: Number(row.billable),
      latencySum: Number(row.latencySumMs),
      min: row.latencyMinMs,
      max: row.latencyMaxMs,
      buckets: row.latencyBuckets,
      counts: row.latencyCounts.map(Number),
      tokens: Number(row.tokens),
      cost: BigInt(row.costUsd.mul(1_000_000).toFixed(0)),
    }).toEqual({
      requests: want.n,
      s: want.s,
      errors: want.errors,
      billable: want.billable,
      latencySum: want.values.reduce((a, b) => a + b, 0),
      min: h.min,
      max: h.max,
      buckets: h.buckets,
      counts: h.counts,
      tokens: want.tokens,
      cost: want.cost,
    });
  }
  const errRows = await db.usageErrorRollup.findMany({ where: { organizationId } });
  expect(errRows.length).toBe(errExpected.size);
  for (const e of errRows) {
    const id = [e.granularity, e.bucketStart.getTime(), e.apiKeyId, e.statusCode, e.errorCode];
    const want = errExpected.get(id.join("|"));
    expect({ count: Number(e.count), last: e.lastSeenAt.getTime() }).toEqual(want);
  }
  return raw.length;
}

describe.each(testDbKinds)("usage rollups (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function orgWithKeys(n: number) {
    const org = await makeOrg(t.prisma, { plan: "PRO" });
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      keys.push((await makeKey(t.prisma, org.id, { environment: i % 2 ? "TEST" : "LIVE" })).key.id);
    }
    return { org: org.id, keys };
  }

  function events(org: string, keys: string[], n: number, seed: number, from = T0, days = 3) {
    const random = rng(seed);
    const endpoints = ["/v1/a", "/v1/b", "/v1/c", "/v1/d"];
    return Array.from({ length: n }, (): UsageEvent => {
      const roll = random();
      const statusCode =
        roll < 0.03 ? 500 : roll < 0.08 ? [400, 404, 429][Math.floor(random() * 3)] : 200;
      const base = [8, 40, 120, 900][Math.floor(random() * 4)];
      return {
        apiKeyId: keys[Math.floor(random() * keys.length)],
        organizationId: org,
        endpoint: endpoints[Math.floor(random() * endpoints.length)],
        method: random() < 0.7 ? "GET" : "POST",
        statusCode,
        responseTimeMs: Math.round(base * Math.exp((random() - 0.5) * 2)),
        tokens: Math.floor(random() * 50),
        costUsd: (Math.floor(random() * 1000) / 1_000_000).toFixed(6),
        errorCode:
          statusCode >= 500 ? "UPSTREAM" : statusCode >= 400 && random() < 0.5 ? "BAD" : null,
        createdAt: new Date(from + Math.floor(random() * days * DAY)),
        // Some 200s that spent no quota (a verify the key check refused answers 200).
        billable: statusCode === 200 && random() < 0.1 ? false : undefined,
      };
    });
  }

  it("every write path (createMany, create, the recorder) keeps rollups equal to the raw rows", async () => {
    const { org, keys } = await orgWithKeys(4);
    await usage.createMany(t.prisma, events(org, keys, 1_500, 1));
    await usage.create(t.prisma, { ...events(org, keys, 1, 2)[0] });
    const recorder = new UsageRecorder({ db: t.prisma, flushIntervalMs: 0, batchSize: 300 });
    for (const e of events(org, keys, 1_000, 3)) {
      recorder.record({ ...e, costUsd: String(e.costUsd) });
    }
    await recorder.close();
    expect(recorder.stats()).toMatchObject({ written: 1_000, dropped: 0 });
    expect(await expectRollupsMatchRaw(t.prisma, org)).toBe(2_501);
    // The keys' counters moved too.
    const counted = await t.prisma.apiKey.aggregate({
      where: { organizationId: org },
      _sum: { requestCount: true },
    });
    expect(Number(counted._sum.requestCount)).toBe(2_501);
  });

  it("a batch written twice (answer lost, retried) counts once", async () => {
    const { org, keys } = await orgWithKeys(2);
    const rows: UsageRow[] = events(org, keys, 200, 4).map((e) => ({
      id: randomUUID(),
      apiKeyId: e.apiKeyId,
      organizationId: e.organizationId,
      endpoint: e.endpoint,
      method: e.method,
      statusCode: e.statusCode,
      responseTimeMs: e.responseTimeMs,
      tokens: e.tokens ?? 0,
      costUsd: String(e.costUsd ?? "0"),
      ipAddress: null,
      userAgent: null,
      errorCode: e.errorCode ?? null,
      errorMessage: null,
      createdAt: e.createdAt as Date,
    }));
    expect(await rollups.insertBatch(t.prisma, rows)).toBe(200);
    expect(await rollups.insertBatch(t.prisma, rows)).toBe(0);
    expect(await rollups.insertBatch(t.prisma, [...rows.slice(0, 50), ...rows.slice(0, 50)])).toBe(
      0,
    );
    expect(await expectRollupsMatchRaw(t.prisma, org)).toBe(200);

    // Half of a batch already there: the rollups are computed from the rows inserted.
    const more = rows.map((r) => ({ ...r, id: randomUUID() }));
    expect(await rollups.insertBatch(t.prisma, more.slice(0, 80))).toBe(80);
    expect(await rollups.insertBatch(t.prisma, more)).toBe(120);
    // Costs in exponent notation, as PostgreSQL's numeric reads them.
    const odd = rows.slice(0, 30).map((r, i) => ({
      ...r,
      id: randomUUID(),
      costUsd: i % 2 ? "1e-6" : "0.0000015",
    }));
    expect(await rollups.insertBatch(t.prisma, odd)).toBe(30);
    // Seven decimals round half away from zero, as numeric(14,6) does.
    const sevenths = ["0.0000015", "0.0000025", "-0.0000015", "12.3456784", "0.9999995"];
    const rounded = rows.slice(0, 5).map((r, i) => ({
      ...r,
      id: randomUUID(),
      costUsd: sevenths[i],
    }));
    expect(await rollups.insertBatch(t.prisma, rounded)).toBe(5);
    expect(await expectRollupsMatchRaw(t.prisma, org)).toBe(435);
  });

  it("concurrent writers to the same rollups neither deadlock nor lose counts", async () => {
    const { org, keys } = await orgWithKeys(3);
    const all = events(org, keys, 4_000, 5, T0, 1);
    await Promise.all(
      [0, 1, 2, 3].map((i) => usage.createMany(t.prisma, all.slice(i * 1_000, (i + 1) * 1_000))),
    );
    expect(await expectRollupsMatchRaw(t.prisma, org)).toBe(4_000);
  });

  it("reads match SQL over the raw rows: counts exactly, percentiles within 2%", async () => {
    const { org, keys } = await orgWithKeys(5);
    await usage.createMany(t.prisma, events(org, keys, 3_000, 6, T0, 4));
    const start = new Date(T0);
    const end = new Date(T0 + 4 * DAY);
    const exactDaily = await t.prisma.$queryRaw<Record<string, unknown>[]>`
      SELECT to_char(date_trunc('day', "createdAt"), 'YYYY-MM-DD') AS date, count(*) AS n,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY "responseTimeMs") AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY "responseTimeMs") AS p95,
             avg("responseTimeMs")::float8 AS avg, sum("costUsd")::numeric(20, 6)::text AS cost
      FROM "ApiKeyUsage" WHERE "organizationId" = ${org}::uuid
      GROUP BY 1 ORDER BY 1`;
    const daily = await usage.getDailyStats(t.prisma, org, start, end);
    expect(daily.map((d) => d.date)).toEqual(exactDaily.map((d) => d.date));
    daily.forEach((d, i) => {
      const want = exactDaily[i];
      expect(d.requests).toBe(Number(want.n));
      expect(d.costUsd).toBe(want.cost);
      expect(d.avgLatencyMs).toBeCloseTo(Number(want.avg), 9);
      for (const [got, exact] of [
        [d.p50LatencyMs, Number(want.p50)],
        [d.p95LatencyMs, Number(want.p95)],
      ] as const) {
        expect(Math.abs((got as number) - exact)).toBeLessThanOrEqual(
          exact * LATENCY_RELATIVE_ERROR + 1e-9,
        );
      }
    });

    const exactEndpoints = await t.prisma.$queryRaw<Record<string, unknown>[]>`
      SELECT endpoint, method, count(*) AS n,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY "responseTimeMs") AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY "responseTimeMs") AS p95
      FROM "ApiKeyUsage" WHERE "organizationId" = ${org}::uuid AND "apiKeyId" = ${keys[0]}::uuid
      GROUP BY 1, 2 ORDER BY n DESC, endpoint, method`;
    const endpoints = await usage.getEndpointStats(t.prisma, org, start, end, { keyId: keys[0] });
    expect(endpoints.map((e) => [e.endpoint, e.method, e.requests])).toEqual(
      exactEndpoints.map((e) => [e.endpoint, e.method, Number(e.n)]),
    );
    endpoints.forEach((e, i) => {
      const p95 = Number(exactEndpoints[i].p95);
      expect(Math.abs((e.p95LatencyMs as number) - p95)).toBeLessThanOrEqual(
        p95 * LATENCY_RELATIVE_ERROR + 1e-9,
      );
    });

    // Top consumers, summary, error stats: exact.
    const top = await usage.getTopConsumers(t.prisma, org, start, end, 10);
    const perKey = await t.prisma.apiKeyUsage.groupBy({
      by: ["apiKeyId"],
      where: { organizationId: org },
      _count: { _all: true },
    });
    expect(top.map((c) => c.requests).sort()).toEqual(perKey.map((k) => k._count._all).sort());
    const summary = await usage.getSummary(t.prisma, org, 2026, 5);
    expect(summary).toMatchObject({ requests: 3_000, activeKeys: 5 });
    const errors = await usage.getErrorStats(t.prisma, org, start, end);
    const rawErrors = await t.prisma.apiKeyUsage.count({
      where: { organizationId: org, statusCode: { gte: 400 } },
    });
    expect(errors.errors).toBe(rawErrors);
    expect(errors.byStatusCode.reduce((n, s) => n + s.count, 0)).toBe(rawErrors);
    expect(errors.byErrorCode.reduce((n, s) => n + s.count, 0)).toBe(rawErrors);
  });

  it("ranges resolve to whole hours: ragged ends from hour rollups, whole days from day rollups", async () => {
    const { org, keys } = await orgWithKeys(2);
    await usage.createMany(t.prisma, events(org, keys, 2_000, 7, T0, 3));
    // From 05-10 10:30 to 05-12 07:15: hours 10:00 on the 10th .. 07:59 on the 12th.
    const from = new Date(T0 + 10.5 * HOUR);
    const to = new Date(T0 + 2 * DAY + 7.25 * HOUR);
    expect(rangeParts(from, to).map((p) => [p.granularity, p.start.toISOString()])).toEqual([
      ["DAY", "2026-05-11T00:00:00.000Z"],
      ["HOUR", "2026-05-10T10:00:00.000Z"],
      ["HOUR", "2026-05-12T00:00:00.000Z"],
    ]);
    const rawIn = await t.prisma.apiKeyUsage.count({
      where: {
        organizationId: org,
        createdAt: { gte: new Date(T0 + 10 * HOUR), lt: new Date(T0 + 2 * DAY + 8 * HOUR) },
      },
    });
    for (const granularity of ["hour", "day"] as const) {
      const series = await usage.getTimeSeries(t.prisma, org, { from, to, granularity });
      expect(series.reduce((n, p) => n + p.requests, 0)).toBe(rawIn);
    }
    const daily = await usage.getDailyStats(t.prisma, org, from, to);
    expect(daily.map((d) => d.date)).toEqual(["2026-05-10", "2026-05-11", "2026-05-12"]);
    expect(daily.reduce((n, d) => n + d.requests, 0)).toBe(rawIn);
    // Environment filter: the TEST key only (keys[1]).
    const test = await usage.getTimeSeries(t.prisma, org, {
      from,
      to,
      granularity: "day",
      environment: "TEST",
      endpoint: "/v1/a",
    });
    const rawTest = await t.prisma.apiKeyUsage.count({
      where: {
        organizationId: org,
        apiKeyId: keys[1],
        endpoint: "/v1/a",
        createdAt: { gte: new Date(T0 + 10 * HOUR), lt: new Date(T0 + 2 * DAY + 8 * HOUR) },
      },
    });
    expect(test.reduce((n, p) => n + p.requests, 0)).toBe(rawTest);
  });
});
