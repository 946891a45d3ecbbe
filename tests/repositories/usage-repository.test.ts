import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LATENCY_RELATIVE_ERROR,
  usageRepository as usage,
} from "@/lib/repositories/usage-repository";
import type { UsageEvent } from "@/lib/usage/event";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { allPages, makeKey, makeOrg, OTHER_UUID } from "./fixtures";

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);

/** Percentiles come from merged histograms: within the documented relative error. */
function expectLatency(actual: number | null, exact: number) {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - exact)).toBeLessThanOrEqual(
    exact * LATENCY_RELATIVE_ERROR + 1e-9,
  );
}

describe.each(testDbKinds)("usageRepository (%s)", (kind) => {
  let t: TestDatabase;
  let orgA: string;
  let orgB: string;
  let k1: string;
  let k2: string;
  let kB: string;

  // Hand-computed data set for organization A (March 2026, UTC):
  //   03-01: k1 latencies 10,20,30,40 status 200,201,301,404; k2 latency 100 status 500
  //   03-02: k1 three rows, latency 7, status 200, cost 0.333333 each
  //   03-03: nothing
  //   03-04: k2 ten rows, latency 1..10, status 200, cost 0.100000 each (a float sum drifts)
  //   edges: 02-28T23:59:59.999 (outside the range, February), 03-05T00:00 (end, exclusive)
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    const db = t.prisma;
    orgA = (await makeOrg(db, { plan: "PRO" })).id;
    orgB = (await makeOrg(db)).id;
    k1 = (await makeKey(db, orgA, { name: "Key one" })).key.id;
    k2 = (await makeKey(db, orgA, { name: "Key two", environment: "TEST" })).key.id;
    kB = (await makeKey(db, orgB)).key.id;
    const row = (r: Partial<UsageEvent> & { createdAt: Date }): UsageEvent => ({
      apiKeyId: k1,
      organizationId: orgA,
      endpoint: "/v1/a",
      method: "GET",
      statusCode: 200,
      responseTimeMs: 1,
      ...r,
    });
    const rows: UsageEvent[] = [
      row({
        createdAt: at("2026-03-01T01:00:00Z"),
        responseTimeMs: 10,
        tokens: 1,
        costUsd: "0.000001",
      }),
      row({
        createdAt: at("2026-03-01T02:00:00Z"),
        responseTimeMs: 20,
        statusCode: 201,
        tokens: 2,
        costUsd: "0.100000",
      }),
      row({
        createdAt: at("2026-03-01T03:00:00Z"),
        responseTimeMs: 30,
        statusCode: 301,
        endpoint: "/v1/b",
        method: "POST",
        tokens: 3,
        costUsd: "0.200002",
      }),
      row({
        createdAt: at("2026-03-01T04:00:00Z"),
        responseTimeMs: 40,
        statusCode: 404,
        endpoint: "/v1/b",
        method: "POST",
        tokens: 4,
        costUsd: "0",
        errorCode: "NOT_FOUND",
      }),
      row({
        createdAt: at("2026-03-01T23:59:59.999Z"),
        apiKeyId: k2,
        responseTimeMs: 100,
        statusCode: 500,
        tokens: 10,
        costUsd: "1.000001",
        errorCode: "UPSTREAM",
      }),
      ...[1, 2, 3].map((i) =>
        row({
          createdAt: at(`2026-03-02T0${i}:00:00Z`),
          responseTimeMs: 7,
          endpoint: "/v1/b",
          method: "POST",
          costUsd: "0.333333",
        }),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        row({
          createdAt: at(`2026-03-04T10:00:${String(i).padStart(2, "0")}Z`),
          apiKeyId: k2,
          responseTimeMs: i + 1,
          endpoint: "/v1/c",
          costUsd: "0.100000",
        }),
      ),
      row({
        createdAt: at("2026-02-28T23:59:59.999Z"),
        responseTimeMs: 500,
        statusCode: 503,
        costUsd: "9",
      }),
      row({ createdAt: at("2026-03-05T00:00:00.000Z"), responseTimeMs: 50, costUsd: "0.000005" }),
      // Organization B, same day: must never show up in A's numbers.
      {
        apiKeyId: kB,
        organizationId: orgB,
        endpoint: "/v1/a",
        method: "GET",
        statusCode: 500,
        responseTimeMs: 999,
        costUsd: "5",
        tokens: 99,
        createdAt: at("2026-03-01T05:00:00Z"),
      },
    ];
    expect(await usage.createMany(db, rows)).toBe(rows.length);
  });
  afterAll(async () => {
    await t?.close();
  });

  const start = at("2026-03-01T00:00:00Z");
  const end = at("2026-03-05T00:00:00Z");

  it("creates one record and returns money as a string", async () => {
    const org = await makeOrg(t.prisma);
    const { key } = await makeKey(t.prisma, org.id);
    const r = await usage.create(t.prisma, {
      apiKeyId: key.id,
      organizationId: org.id,
      endpoint: "/v1/x",
      method: "GET",
      statusCode: 200,
      responseTimeMs: 12.6,
      costUsd: "0.0000015",
    });
    expect(r.costUsd).toBe("0.000002"); // numeric(14,6) rounds half up
    expect(r.responseTimeMs).toBe(13);
    expect(r.tokens).toBe(0);
    expect(r.createdAt).toBeInstanceOf(Date);
  });

  it("daily stats: one row per UTC day, status classes, percentiles and exact costs", async () => {
    const days = await usage.getDailyStats(t.prisma, orgA, start, end);
    expect(days.map((d) => d.date)).toEqual([
      "2026-03-01",
      "2026-03-02",
      "2026-03-03",
      "2026-03-04",
    ]);
    const [d1, d2, d3, d4] = days;
    expect(d1).toMatchObject({
      requests: 5,
      status2xx: 2,
      status3xx: 1,
      status4xx: 1,
      status5xx: 1,
      errors: 2,
      tokens: 20,
      costUsd: "1.300004",
      avgLatencyMs: 40,
    });
    // 10, 20, 30, 40, 100: p50 = 30; p95 at position 0.95 * 4 = 3.8: 40 + 0.8 * (100 - 40)
    expectLatency(d1.p50LatencyMs, 30);
    expectLatency(d1.p95LatencyMs, 88);
    expect(d2).toMatchObject({ requests: 3, status2xx: 3, errors: 0, costUsd: "0.999999" });
    expect(d2.p50LatencyMs).toBe(7);
    expect(d2.p95LatencyMs).toBe(7);
    expect(d3).toEqual({
      date: "2026-03-03",
      requests: 0,
      status2xx: 0,
      status3xx: 0,
      status4xx: 0,
      status5xx: 0,
      errors: 0,
      p50LatencyMs: null,
      p95LatencyMs: null,
      avgLatencyMs: null,
      tokens: 0,
      costUsd: "0.000000",
    });
    // 1..10: p50 = 5.5, p95 at position 8.55: 9 + 0.55 (exact: below 25 ms buckets are 1 ms wide)
    expect(d4).toMatchObject({ requests: 10, p50LatencyMs: 5.5, costUsd: "1.000000" });
    expect(d4.p95LatencyMs).toBeCloseTo(9.55, 9);
  });

  it("daily stats for one key", async () => {
    const days = await usage.getDailyStats(t.prisma, orgA, start, end, { keyId: k1 });
    expect(days.map((d) => d.requests)).toEqual([4, 3, 0, 0]);
    expectLatency(days[0].p50LatencyMs, 25); // 10, 20, 30, 40
    expect(days[0].costUsd).toBe("0.300003");
    // Another organization's key contributes nothing to A.
    const foreign = await usage.getDailyStats(t.prisma, orgA, start, end, { keyId: kB });
    expect(foreign.every((d) => d.requests === 0)).toBe(true);
    expect(await usage.getDailyStats(t.prisma, orgA, end, start)).toEqual([]);
  });

  it("monthly summary", async () => {
    const march = await usage.getSummary(t.prisma, orgA, 2026, 3);
    expect(march).toMatchObject({
      requests: 19,
      successful: 17,
      errors: 2,
      tokens: 20,
      // 1.300004 + 0.999999 + 1.000000 + 0.000005
      costUsd: "3.300008",
      activeKeys: 2,
      start: at("2026-03-01T00:00:00Z"),
      end: at("2026-04-01T00:00:00Z"),
    });
    const feb = await usage.getSummary(t.prisma, orgA, 2026, 2);
    expect(feb).toMatchObject({
      requests: 1,
      errors: 1,
      costUsd: "9.000000",
      avgResponseTimeMs: 500,
    });
    const empty = await usage.getSummary(t.prisma, orgA, 2025, 1);
    expect(empty).toMatchObject({ requests: 0, costUsd: "0.000000", avgResponseTimeMs: null });
    await expect(usage.getSummary(t.prisma, orgA, 2026, 13)).rejects.toThrow(RangeError);
  });

  it("current month usage counts the UTC calendar month", async () => {
    expect(await usage.getMonthlyUsage(t.prisma, orgA, at("2026-03-31T23:59:59Z"))).toBe(19);
    expect(await usage.getMonthlyUsage(t.prisma, orgA, at("2026-02-10T00:00:00Z"))).toBe(1);
    expect(await usage.getMonthlyUsage(t.prisma, orgB, at("2026-03-15T00:00:00Z"))).toBe(1);
    expect(await usage.getMonthlyUsage(t.prisma, OTHER_UUID)).toBe(0);
  });

  it("counts requests from rollups, leaving out chosen status codes", async () => {
    const march = at("2026-04-01T00:00:00Z");
    expect(await usage.countRequests(t.prisma, orgA, at("2026-03-01T00:00:00Z"), march)).toBe(19);
    // 404 and 500 left out (one each in March).
    expect(
      await usage.countRequests(t.prisma, orgA, at("2026-03-01T00:00:00Z"), march, {
        excludeStatusCodes: [404, 500, 429],
      }),
    ).toBe(17);
    expect(await usage.countRequests(t.prisma, OTHER_UUID, start, end)).toBe(0);
  });

  it("endpoint stats, busiest first", async () => {
    const stats = await usage.getEndpointStats(t.prisma, orgA, start, end);
    expect(stats.map((s) => [s.endpoint, s.method, s.requests])).toEqual([
      ["/v1/c", "GET", 10],
      ["/v1/b", "POST", 5],
      ["/v1/a", "GET", 3],
    ]);
    expect(stats[1]).toMatchObject({ errors: 1, tokens: 7, costUsd: "1.200001", p50LatencyMs: 7 });
    expect(stats[2]).toMatchObject({ errors: 1, tokens: 13, costUsd: "1.100002" });
    expectLatency(stats[2].p50LatencyMs, 20); // 10, 20, 100
    // /v1/b POST: 30, 40, 7, 7, 7: p95 at position 3.8 = 30 + 0.8 * 10
    expectLatency(stats[1].p95LatencyMs, 38);
    expect(stats[0]).toMatchObject({ p50LatencyMs: 5.5, avgLatencyMs: 5.5 });
    const top1 = await usage.getEndpointStats(t.prisma, orgA, start, end, { limit: 1 });
    expect(top1).toHaveLength(1);
    const k1Only = await usage.getEndpointStats(t.prisma, orgA, start, end, { keyId: k1 });
    expect(k1Only.map((s) => s.requests)).toEqual([5, 2]);
  });

  it("error stats", async () => {
    const e = await usage.getErrorStats(t.prisma, orgA, start, end);
    expect(e.requests).toBe(18);
    expect(e.errors).toBe(2);
    expect(e.errorRate).toBeCloseTo(2 / 18, 12);
    expect(e.byStatusCode).toEqual([
      { statusCode: 404, count: 1 },
      { statusCode: 500, count: 1 },
    ]);
    expect(e.byErrorCode).toEqual([
      { errorCode: "NOT_FOUND", count: 1, lastSeenAt: at("2026-03-01T04:00:00Z") },
      { errorCode: "UPSTREAM", count: 1, lastSeenAt: at("2026-03-01T23:59:59.999Z") },
    ]);
    const none = await usage.getErrorStats(t.prisma, orgA, at("2026-03-04T00:00:00Z"), end);
    expect(none).toMatchObject({ requests: 10, errors: 0, errorRate: 0, byStatusCode: [] });
  });

  it("time series: hour and day buckets with filters, empty buckets included", async () => {
    const days = await usage.getTimeSeries(t.prisma, orgA, {
      from: start,
      to: end,
      granularity: "day",
    });
    expect(days.map((d) => [d.bucket, d.requests, d.errors, d.costUsd])).toEqual([
      ["2026-03-01T00:00:00.000Z", 5, 2, "1.300004"],
      ["2026-03-02T00:00:00.000Z", 3, 0, "0.999999"],
      ["2026-03-03T00:00:00.000Z", 0, 0, "0.000000"],
      ["2026-03-04T00:00:00.000Z", 10, 0, "1.000000"],
    ]);
    expect(days[0].avgResponseTimeMs).toBe(40);
    expect(days[2].avgResponseTimeMs).toBe(0);
    const hours = await usage.getTimeSeries(t.prisma, orgA, {
      from: at("2026-03-01T00:30:00Z"),
      to: at("2026-03-01T04:00:00Z"),
      granularity: "hour",
    });
    expect(hours.map((h) => [h.bucket.slice(11, 13), h.requests])).toEqual([
      ["00", 0],
      ["01", 1],
      ["02", 1],
      ["03", 1],
    ]);
    const test = await usage.getTimeSeries(t.prisma, orgA, {
      from: start,
      to: end,
      granularity: "day",
      environment: "TEST",
    });
    expect(test.map((d) => d.requests)).toEqual([1, 0, 0, 10]);
    const endpointB = await usage.getTimeSeries(t.prisma, orgA, {
      from: start,
      to: end,
      granularity: "day",
      endpoint: "/v1/b",
      keyId: k1,
    });
    expect(endpointB.map((d) => d.requests)).toEqual([2, 3, 0, 0]);
    await expect(
      usage.getTimeSeries(t.prisma, orgA, { from: start, to: end, granularity: "week" as never }),
    ).rejects.toThrow(RangeError);
  });

  it("top consumers: the organization's keys by requests", async () => {
    const top = await usage.getTopConsumers(t.prisma, orgA, start, end, 10);
    expect(top.map((c) => [c.apiKeyId, c.requests])).toEqual([
      [k2, 11],
      [k1, 7],
    ]);
    expect(top[0]).toMatchObject({
      name: "Key two",
      environment: "TEST",
      status: "ACTIVE",
      errors: 1,
      tokens: 10,
      costUsd: "2.000001",
    });
    expect(top[1]).toMatchObject({ costUsd: "1.300002", tokens: 10 });
    expect(await usage.getTopConsumers(t.prisma, orgA, start, end, 1)).toHaveLength(1);
    expect(await usage.getTopConsumers(t.prisma, OTHER_UUID, start, end)).toEqual([]);
  });

  it("lists by organization and by key, newest first, in range, paginated", async () => {
    const page = await usage.getByOrganization(t.prisma, orgA, { start, end, limit: 100 });
    expect(page.items).toHaveLength(18);
    expect(page.nextCursor).toBeNull();
    expect(page.items[0].createdAt).toEqual(at("2026-03-04T10:00:09Z"));
    expect(page.items.every((r) => r.organizationId === orgA)).toBe(true);
    expect(typeof page.items[0].costUsd).toBe("string");
    expect(page.items[0].costUsd).toBe("0.100000");

    const walked = await allPages((cursor) =>
      usage.getByOrganization(t.prisma, orgA, { start, end, limit: 6, cursor }),
    );
    expect(walked.pages).toEqual([6, 6, 6]);
    expect(walked.items.map((r) => r.id)).toEqual(page.items.map((r) => r.id));

    const byKey = await allPages((cursor) =>
      usage.getByKey(t.prisma, orgA, k1, { start, end, limit: 4, cursor }),
    );
    expect(byKey.pages).toEqual([4, 3]);
    expect(byKey.items.every((r) => r.apiKeyId === k1)).toBe(true);
    // Another organization's key through A: nothing, exactly like a missing key.
    expect((await usage.getByKey(t.prisma, orgA, kB)).items).toEqual([]);
    expect((await usage.getByKey(t.prisma, orgA, OTHER_UUID)).items).toEqual([]);
    const withKey = await usage.getByOrganization(t.prisma, orgA, { keyId: k2, start, end });
    expect(withKey.items).toHaveLength(11);
  });

  it("writes large batches", async () => {
    const org = await makeOrg(t.prisma);
    const { key } = await makeKey(t.prisma, org.id);
    const base = at("2026-01-15T00:00:00Z").getTime();
    const rows: UsageEvent[] = Array.from({ length: 6_000 }, (_, i) => ({
      apiKeyId: key.id,
      organizationId: org.id,
      endpoint: `/v1/e${i % 7}`,
      method: "GET",
      statusCode: 200,
      responseTimeMs: i % 100,
      tokens: 1,
      costUsd: "0.000001",
      ipAddress: "203.0.113.1",
      userAgent: "test",
      errorCode: null,
      errorMessage: null,
      createdAt: new Date(base + i * 1000),
    }));
    expect(await usage.createMany(t.prisma, rows)).toBe(6_000);
    const s = await usage.getSummary(t.prisma, org.id, 2026, 1);
    expect(s).toMatchObject({ requests: 6_000, tokens: 6_000, costUsd: "0.006000" });
    expect(await usage.createMany(t.prisma, [])).toBe(0);
  });
});

describe.each(testDbKinds)("usageRepository retention (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("deletes records past each organization's retention, in batches", async () => {
    const db = t.prisma;
    const now = at("2026-06-01T00:00:00Z");
    const free = await makeOrg(db); // 30 days
    const pro = await makeOrg(db, { plan: "PRO" }); // 90 days
    const ent = await makeOrg(db, { plan: "ENTERPRISE" }); // 365 days
    const keyOf = async (org: string) => (await makeKey(db, org)).key.id;
    const keys = { free: await keyOf(free.id), pro: await keyOf(pro.id), ent: await keyOf(ent.id) };
    const rec = (org: string, key: string, daysAgo: number): UsageEvent => ({
      apiKeyId: key,
      organizationId: org,
      endpoint: "/v1/a",
      method: "GET",
      statusCode: 200,
      responseTimeMs: 1,
      createdAt: new Date(now.getTime() - daysAgo * DAY),
    });
    await usage.createMany(db, [
      rec(free.id, keys.free, 10),
      rec(free.id, keys.free, 29.9),
      rec(free.id, keys.free, 30.1),
      rec(free.id, keys.free, 60),
      rec(pro.id, keys.pro, 31),
      rec(pro.id, keys.pro, 89),
      rec(pro.id, keys.pro, 91),
      rec(pro.id, keys.pro, 200),
      rec(ent.id, keys.ent, 200),
      rec(ent.id, keys.ent, 400),
    ]);
    const left = async (org: string) => db.apiKeyUsage.count({ where: { organizationId: org } });

    expect(await usage.deleteOldRecords(db, { now, batchSize: 1 })).toBe(5);
    expect(await left(free.id)).toBe(2);
    expect(await left(pro.id)).toBe(2);
    expect(await left(ent.id)).toBe(1);
    expect(await usage.deleteOldRecords(db, { now })).toBe(0);

    // A fixed number of days, for one organization only.
    expect(await usage.deleteOldRecords(db, { now, days: 20, organizationId: free.id })).toBe(1);
    expect(await left(free.id)).toBe(1);
    expect(await left(pro.id)).toBe(2);

    // A fixed number of days for everyone.
    expect(await usage.deleteOldRecords(db, { now, days: 50, batchSize: 2 })).toBe(2);
    expect(await left(pro.id)).toBe(1);
    expect(await left(ent.id)).toBe(0);
    await expect(usage.deleteOldRecords(db, { days: -1 })).rejects.toThrow(RangeError);
  });
});
