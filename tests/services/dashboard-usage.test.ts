// The dashboard's range tiles (p50 / p95 over the whole range) come from the range's merged
// latency histogram, so they match percentile_cont over the raw rows within the documented 2%,
// however unevenly the traffic falls on the days. A request-weighted mean of daily percentiles
// (what the tiles used to show) does not; the first test checks it would have failed.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "@/lib/db";
import {
  LATENCY_RELATIVE_ERROR,
  type UsageFilters,
  usageRepository as usage,
} from "@/lib/repositories/usage-repository";
import { getKeyUsage, getUsageOverview } from "@/lib/services/dashboard-usage";
import { parseDateRange } from "@/lib/url-state/date-range";
import type { UsageEvent } from "@/lib/usage/event";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { makeKey, makeOrg } from "@/tests/repositories/fixtures";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 2); // 2026-03-02, a Monday, long before "now" in any run

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

function expectWithin(actual: number | null, exact: number | null, label: string) {
  expect(actual, label).not.toBeNull();
  expect(exact, label).not.toBeNull();
  const err = Math.abs((actual as number) - (exact as number)) / (exact as number);
  expect(err, `${label}: ${actual} vs exact ${exact}`).toBeLessThanOrEqual(LATENCY_RELATIVE_ERROR);
}

describe.each(testDbKinds)("dashboard range percentiles (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** percentile_cont, counts and sums over the raw rows, with the same filters. */
  async function exact(org: string, start: number, end: number, f: UsageFilters = {}) {
    const [r] = await t.prisma.$queryRaw<Record<string, unknown>[]>`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p95,
             COUNT(*) AS requests, COUNT(*) FILTER (WHERE u."statusCode" >= 400) AS errors,
             COALESCE(SUM(u.tokens), 0) AS tokens,
             COALESCE(SUM(u."costUsd"), 0)::numeric(20, 6)::text AS cost,
             AVG(u."responseTimeMs") AS avg
      FROM "ApiKeyUsage" u JOIN "ApiKey" k ON k.id = u."apiKeyId"
      WHERE u."organizationId" = ${org}::uuid
        AND u."createdAt" >= ${new Date(start)}::timestamp(3)
        AND u."createdAt" < ${new Date(end)}::timestamp(3)
        ${f.keyId ? Prisma.sql`AND u."apiKeyId" = ${f.keyId}::uuid` : Prisma.empty}
        ${f.endpoint ? Prisma.sql`AND u.endpoint = ${f.endpoint}` : Prisma.empty}
        ${f.environment ? Prisma.sql`AND k.environment::text = ${f.environment}` : Prisma.empty}`;
    const n = (v: unknown) => (v === null ? null : Number(v));
    return {
      p50: n(r.p50),
      p95: n(r.p95),
      avg: n(r.avg),
      requests: Number(r.requests),
      errors: Number(r.errors),
      tokens: Number(r.tokens),
      costUsd: String(r.cost),
    };
  }

  it("1,000 fast requests one day and 10 slow the next: the range p95 is the true p95", async () => {
    const org = await makeOrg(t.prisma);
    const { key } = await makeKey(t.prisma, org.id);
    const events: UsageEvent[] = [];
    for (let i = 0; i < 1_000; i++) {
      events.push({
        apiKeyId: key.id,
        organizationId: org.id,
        endpoint: "/v1/fast",
        method: "GET",
        statusCode: 200,
        responseTimeMs: 10 + (i % 21), // 10..30 ms
        createdAt: new Date(T0 + 10 * HOUR + i * 1_000),
      });
    }
    for (let i = 0; i < 10; i++) {
      events.push({
        apiKeyId: key.id,
        organizationId: org.id,
        endpoint: "/v1/slow",
        method: "POST",
        statusCode: i < 2 ? 500 : 200,
        responseTimeMs: 900 + i * 10, // 900..990 ms
        tokens: 7,
        costUsd: "0.001250",
        createdAt: new Date(T0 + DAY + 12 * HOUR + i * 1_000),
      });
    }
    await usage.createMany(t.prisma, events);
    const range = parseDateRange({ range: "custom", from: day(T0), to: day(T0 + DAY) });
    const truth = await exact(org.id, T0, T0 + 2 * DAY);
    expect(truth.requests).toBe(1_010);

    const stats = await usage.getRangeStats(t.prisma, org.id, range.start, range.end);
    expect(stats).toMatchObject({
      requests: 1_010,
      errors: 2,
      tokens: 70,
      costUsd: "0.012500",
    });
    expectWithin(stats.p50LatencyMs, truth.p50, "p50");
    expectWithin(stats.p95LatencyMs, truth.p95, "p95");
    expect(stats.avgLatencyMs).toBeCloseTo(truth.avg as number, 6);

    // What the tiles used to show, a request-weighted mean of the daily p95, is far off: this
    // test tells the two apart.
    const daily = await usage.getDailyStats(t.prisma, org.id, range.start, range.end);
    const weighted =
      daily.reduce((s, d) => s + (d.p95LatencyMs ?? 0) * d.requests, 0) /
      daily.reduce((s, d) => s + d.requests, 0);
    expect(Math.abs(weighted - (truth.p95 as number)) / (truth.p95 as number)).toBeGreaterThan(
      LATENCY_RELATIVE_ERROR,
    );

    // The services behind the usage page and the key page show exactly that.
    const overview = await getUsageOverview(t.prisma, org.id, range);
    expect(overview.totals).toEqual(stats);
    expect(overview.daily.map((d) => d.requests)).toEqual([1_000, 10]);
    const keyUsage = await getKeyUsage(t.prisma, org.id, key.id, range);
    expect(keyUsage.totals).toEqual(stats);
  });

  it("matches percentile_cont for any filter (key, endpoint, environment) and ragged hours", async () => {
    const org = await makeOrg(t.prisma, { plan: "PRO" });
    const live = (await makeKey(t.prisma, org.id, { environment: "LIVE" })).key.id;
    const test = (await makeKey(t.prisma, org.id, { environment: "TEST" })).key.id;
    const other = await makeOrg(t.prisma);
    const otherKey = (await makeKey(t.prisma, other.id)).key.id;
    const endpoints = ["/v1/a", "/v1/b", "/v1/c"];
    // Uneven: most traffic on the first day, the slow endpoint mostly later. Seeded, so the
    // same events every run.
    const draws = fc.sample(
      fc.record({
        day: fc.oneof(
          { weight: 4, arbitrary: fc.constant(0) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) },
        ),
        at: fc.integer({ min: 0, max: DAY - 1 }),
        endpoint: fc.constantFrom(...endpoints),
        live: fc.integer({ min: 0, max: 9 }).map((n) => n < 7),
        failed: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
        spread: fc.double({ min: -0.75, max: 0.75, noNaN: true }),
        tokens: fc.integer({ min: 0, max: 9 }),
        micros: fc.integer({ min: 0, max: 499 }),
      }),
      { seed: 42, numRuns: 3_000 },
    );
    const events: UsageEvent[] = draws.map((d) => {
      const base = d.endpoint === "/v1/c" ? (d.day > 0 ? 1_500 : 60) : d.day > 0 ? 200 : 12;
      return {
        apiKeyId: d.live ? live : test,
        organizationId: org.id,
        endpoint: d.endpoint,
        method: "GET",
        statusCode: d.failed ? 503 : 200,
        responseTimeMs: Math.round(base * Math.exp(d.spread)),
        tokens: d.tokens,
        costUsd: (d.micros / 1_000_000).toFixed(6),
        createdAt: new Date(T0 + d.day * DAY + d.at),
      };
    });
    // Another organization's slow traffic must not count.
    for (let i = 0; i < 200; i++) {
      events.push({
        apiKeyId: otherKey,
        organizationId: other.id,
        endpoint: "/v1/a",
        method: "GET",
        statusCode: 200,
        responseTimeMs: 50_000,
        createdAt: new Date(T0 + i * 60_000),
      });
    }
    await usage.createMany(t.prisma, events);

    const whole = parseDateRange({ range: "custom", from: day(T0), to: day(T0 + 4 * DAY) });
    const filters: UsageFilters[] = [
      {},
      { keyId: live },
      { keyId: test },
      { endpoint: "/v1/c" },
      { environment: "TEST" },
      { keyId: live, endpoint: "/v1/a" },
      { environment: "LIVE", endpoint: "/v1/c" },
    ];
    for (const f of filters) {
      const truth = await exact(org.id, whole.start.getTime(), whole.end.getTime(), f);
      const got = await usage.getRangeStats(t.prisma, org.id, whole.start, whole.end, f);
      const label = JSON.stringify(f);
      expect(got.requests, label).toBe(truth.requests);
      expect(got.errors, label).toBe(truth.errors);
      expect(got.tokens, label).toBe(truth.tokens);
      expect(got.costUsd, label).toBe(truth.costUsd);
      expectWithin(got.p50LatencyMs, truth.p50, `${label} p50`);
      expectWithin(got.p95LatencyMs, truth.p95, `${label} p95`);
    }

    // A range starting and ending inside days: whole-day rollups plus the hours at either end.
    const from = T0 + 5 * HOUR;
    const to = T0 + 3 * DAY + 7 * HOUR;
    const truth = await exact(org.id, from, to);
    const got = await usage.getRangeStats(t.prisma, org.id, new Date(from), new Date(to));
    expect(got.requests).toBe(truth.requests);
    expectWithin(got.p95LatencyMs, truth.p95, "ragged p95");

    // Another organization's key, a malformed id, an empty range: nothing.
    expect(
      (await usage.getRangeStats(t.prisma, org.id, whole.start, whole.end, { keyId: otherKey }))
        .requests,
    ).toBe(0);
    const nothing = await usage.getRangeStats(t.prisma, org.id, whole.start, whole.end, {
      keyId: "not-a-uuid",
    });
    expect(nothing).toMatchObject({ requests: 0, p50LatencyMs: null, p95LatencyMs: null });
    const later = new Date(T0 + 100 * DAY);
    expect(
      await usage.getRangeStats(t.prisma, org.id, later, new Date(later.getTime() + DAY)),
    ).toMatchObject({ requests: 0, p95LatencyMs: null, costUsd: "0.000000" });
  });
});
