import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usageRepository as usage } from "@/lib/repositories/usage-repository";
import { pruneUsage, startRetentionTimer } from "@/lib/services/usage-retention";
import type { UsageEvent } from "@/lib/usage/event";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { makeKey, makeOrg } from "@/tests/repositories/fixtures";

const DAY = 86_400_000;
const NOW = new Date("2027-06-15T12:00:00Z");

describe.each(testDbKinds)("usage retention (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function orgWithUsage(
    plan: "FREE" | "PRO" | "ENTERPRISE",
    daysAgo: number[],
    now: Date = NOW,
  ) {
    const org = await makeOrg(t.prisma, { plan });
    const { key } = await makeKey(t.prisma, org.id);
    const rows: UsageEvent[] = daysAgo.map((d) => ({
      apiKeyId: key.id,
      organizationId: org.id,
      endpoint: "/v1/a",
      method: "GET",
      statusCode: d === 500 ? 500 : 200,
      responseTimeMs: 10,
      createdAt: new Date(now.getTime() - d * DAY),
    }));
    await usage.createMany(t.prisma, rows);
    return org.id;
  }

  const raw = (org: string) => t.prisma.apiKeyUsage.count({ where: { organizationId: org } });
  const rollups = (org: string, granularity: "HOUR" | "DAY") =>
    t.prisma.usageRollup.count({ where: { organizationId: org, granularity } });

  it("deletes raw rows past each plan's retention and rollups past theirs, in batches", async () => {
    const free = await orgWithUsage("FREE", [1, 29, 31, 60, 120]); // raw 30 days
    const pro = await orgWithUsage("PRO", [1, 89, 91, 200]); // raw 90 days
    const ent = await orgWithUsage("ENTERPRISE", [1, 200, 364, 366, 420]); // raw 365 days
    // 4 levels x (hour + day) rollup rows per distinct day here.
    expect(await rollups(free, "HOUR")).toBe(5 * 4);

    const result = await pruneUsage(t.prisma, NOW, { batchSize: 2 });
    expect(result.rawDeleted).toBe(3 + 2 + 2);
    expect(await raw(free)).toBe(2);
    expect(await raw(pro)).toBe(2);
    expect(await raw(ent)).toBe(3);
    // Hour rollups: 90 days for everyone.
    expect(await rollups(free, "HOUR")).toBe(4 * 4); // 1, 29, 31, 60
    expect(await rollups(pro, "HOUR")).toBe(2 * 4); // 1, 89
    expect(await rollups(ent, "HOUR")).toBe(1 * 4); // 1
    // Day rollups: 400 days (the 420-day-old one goes; the raw rows of 31..366 days are gone
    // but their day rollups stay).
    expect(await rollups(free, "DAY")).toBe(5 * 4);
    expect(await rollups(pro, "DAY")).toBe(4 * 4);
    expect(await rollups(ent, "DAY")).toBe(4 * 4);
    expect(result.organizations).toBe(3);
    expect(result.rollupsDeleted).toBe((1 + 2 + 4) * 4 + 1 * 4);

    // Charts still see the deleted raw rows' history, from rollups.
    const from = new Date(Date.UTC(2027, 1, 1));
    const to = new Date(Date.UTC(2027, 5, 16));
    const series = await usage.getTimeSeries(t.prisma, free, { from, to, granularity: "day" });
    expect(series.reduce((n, p) => n + p.requests, 0)).toBe(5);

    // Nothing left to do: a second run deletes nothing.
    expect(await pruneUsage(t.prisma, NOW)).toMatchObject({ rawDeleted: 0, rollupsDeleted: 0 });
  });

  it("keeps day rollups as long as the organization's raw retention when that is longer", async () => {
    const org = await orgWithUsage("ENTERPRISE", [450, 600]);
    await t.prisma.organization.update({ where: { id: org }, data: { usageRetentionDays: 500 } });
    await pruneUsage(t.prisma, NOW);
    expect(await raw(org)).toBe(1);
    expect(await rollups(org, "DAY")).toBe(4);
    expect(await t.prisma.usageErrorRollup.count({ where: { organizationId: org } })).toBe(0);
  });

  it("stops between statements when asked", async () => {
    const org = await orgWithUsage("FREE", [40, 41, 42, 43, 44, 45]);
    const signal = AbortSignal.abort();
    const r = await pruneUsage(t.prisma, NOW, { batchSize: 2, signal });
    expect(r.rawDeleted).toBeLessThanOrEqual(2);
    expect(await raw(org)).toBeGreaterThanOrEqual(4);
    await pruneUsage(t.prisma, NOW);
    expect(await raw(org)).toBe(0);
  });

  it("the timer runs the job periodically, once per process, and stops", async () => {
    const org = await orgWithUsage("FREE", [1, 100], new Date()); // the timer prunes as of now
    const runs: string[] = [];
    const stop = startRetentionTimer({
      firstRunMs: 5,
      intervalMs: 20,
      db: async () => t.prisma,
      log: (m) => runs.push(m),
    });
    expect(startRetentionTimer()).toBe(stop);
    // Wait for the run's log line, not the row count: the raw rows are deleted (and visible)
    // before the same run prunes rollups and logs.
    const deleted = () => runs.some((m) => m.startsWith("usage-retention: deleted"));
    for (let i = 0; i < 500 && !deleted(); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(deleted()).toBe(true);
    expect(await raw(org)).toBe(1);
    await stop();
    expect(startRetentionTimer({ firstRunMs: 1e9, db: async () => t.prisma })).not.toBe(stop);
    await startRetentionTimer()();
  });
});
