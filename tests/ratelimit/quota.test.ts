import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import type { Tx } from "@/lib/db";
import {
  MemoryQuotaCounter,
  monthOf,
  PostgresQuotaCounter,
  RedisQuotaCounter,
} from "@/lib/ratelimit/quota";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { pruneUsage } from "@/lib/services/usage-retention";
import { createTestDatabase, testDbKinds } from "@/tests/helpers/db";
import { createApiKeyRow, createOrganization } from "./fixtures";
import { DEC_1, NOV_15, quotaSuite } from "./quota-suite";
import { TestClock } from "./store-suite";

describe("monthOf", () => {
  it("gives the UTC calendar month", () => {
    expect(monthOf(NOV_15)).toEqual({ key: "2026-11", start: Date.UTC(2026, 10, 1), end: DEC_1 });
    expect(monthOf(DEC_1 - 1).key).toBe("2026-11");
    expect(monthOf(DEC_1).key).toBe("2026-12");
    expect(monthOf(Date.UTC(2026, 11, 31, 23)).end).toBe(Date.UTC(2027, 0, 1));
  });

  it("is computed once per month (the same frozen answer until the month ends)", () => {
    const a = monthOf(NOV_15);
    expect(monthOf(Date.UTC(2026, 10, 1))).toBe(a);
    expect(monthOf(DEC_1 - 1)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    const dec = monthOf(DEC_1);
    expect(dec).not.toBe(a);
    expect(dec).toEqual({ key: "2026-12", start: DEC_1, end: Date.UTC(2027, 0, 1) });
    // A clock going back (a test, a corrected clock) gets its own month again.
    expect(monthOf(DEC_1 - 1)).toEqual(a);
    expect(monthOf(Date.UTC(1999, 1, 28, 23, 59, 59, 999)).key).toBe("1999-02");
    expect(monthOf(Date.UTC(2000, 1, 29)).end).toBe(Date.UTC(2000, 2, 1));
  });

  it("agrees with a fresh computation at every hour of two years", () => {
    const from = Date.UTC(2027, 0, 1);
    const wrong: number[] = [];
    for (let t = from - 1; t < from + 2 * 366 * 86_400_000; t += 3_599_999) {
      const d = new Date(t);
      const m = monthOf(t);
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      if (m.start !== start || m.end !== Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)) {
        wrong.push(t);
      }
    }
    expect(wrong).toEqual([]);
  });
});

quotaSuite("memory", async () => {
  const clock = new TestClock(NOV_15);
  const counter = new MemoryQuotaCounter({ now: clock.now });
  return { counter, clock, org: async () => randomUUID(), close: () => counter.close() };
});

const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  quotaSuite("redis", async () => {
    const clock = new TestClock(NOV_15);
    const prefix = `kw:test:${randomBytes(6).toString("hex")}:quota:`;
    const redis = new Redis(redisUrl);
    const counter = new RedisQuotaCounter({ redis, prefix, now: clock.now });
    return {
      counter,
      clock,
      org: async () => randomUUID(),
      async close() {
        const keys = await redis.keys(`${prefix}*`);
        // The month key lives until a day after its month ends (the clock is in 2026).
        const ttl = await redis.pttl(keys[0]);
        expect(ttl).toBeGreaterThan(0);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      },
    };
  });
}

for (const kind of testDbKinds) {
  quotaSuite(`postgres (${kind})`, async () => {
    const db = await createTestDatabase(kind);
    const clock = new TestClock(NOV_15);
    const counter = new PostgresQuotaCounter({ db: db.prisma, now: clock.now });
    return {
      counter,
      clock,
      org: () => createOrganization(db.prisma),
      async close() {
        await counter.close();
        await db.close();
      },
    };
  });
}

describe.each(testDbKinds)("postgres quota from recorded usage (%s)", (kind) => {
  // Usage goes in through the real write path (raw rows and rollups in one statement).
  const usageOf =
    (apiKeyId: string, organizationId: string) =>
    (createdAt: number, statusCode = 200) => ({
      apiKeyId,
      organizationId,
      endpoint: "/api/v1/verify",
      method: "POST",
      statusCode,
      responseTimeMs: 3,
      createdAt: new Date(createdAt),
    });

  it("starts from the month's metered requests and picks up other writers on refresh", async () => {
    const db = await createTestDatabase(kind);
    try {
      const clock = new TestClock(NOV_15);
      const orgId = await createOrganization(db.prisma);
      const apiKeyId = await createApiKeyRow(db.prisma, orgId);
      const row = usageOf(apiKeyId, orgId);
      await usageRepository.createMany(db.prisma, [
        ...Array.from({ length: 7 }, () => row(NOV_15 - 1000)),
        row(NOV_15, 429), // refused by the limiter: used no quota
        row(NOV_15, 403),
        row(NOV_15, 401),
        row(NOV_15, 404), // a key that passed every check, then a 404: metered
        row(NOV_15, 500), // likewise
        // verify refusals (REVOKED, RATE_LIMITED, QUOTA_EXCEEDED...) answer 200, spend nothing
        { ...row(NOV_15), billable: false },
        { ...row(NOV_15), billable: false },
        row(Date.UTC(2026, 9, 31, 23, 59)), // last month
        row(DEC_1), // next month
      ]);
      const counter = new PostgresQuotaCounter({
        db: db.prisma,
        now: clock.now,
        refreshMs: 60_000,
      });
      expect((await counter.consume(orgId, 12)).used).toBe(10);
      expect((await counter.consume(orgId, 12)).used).toBe(11);
      // Usage not yet flushed must not be forgotten at the next recount...
      clock.advance(60_000);
      expect((await counter.consume(orgId, 12)).used).toBe(12);
      // ...and requests recorded by others are picked up at the next one.
      await usageRepository.createMany(
        db.prisma,
        Array.from({ length: 12 }, () => row(NOV_15 + 1)),
      );
      expect((await counter.consume(orgId, 100)).used).toBe(13); // cached: not yet seen
      clock.advance(60_000);
      expect((await counter.consume(orgId, 100)).used).toBe(22); // 9 + 12 recorded, +1
    } finally {
      await db.close();
    }
  });

  it("counts the month right after retention deleted the raw rows of earlier days", async () => {
    const db = await createTestDatabase(kind);
    try {
      const clock = new TestClock(NOV_15);
      const orgId = await createOrganization(db.prisma);
      await db.prisma.organization.update({
        where: { id: orgId },
        data: { usageRetentionDays: 1 },
      });
      const apiKeyId = await createApiKeyRow(db.prisma, orgId);
      const row = usageOf(apiKeyId, orgId);
      await usageRepository.createMany(db.prisma, [
        ...Array.from({ length: 5 }, () => row(Date.UTC(2026, 10, 1, 0, 0, 1))), // first day
        ...Array.from({ length: 4 }, () => row(Date.UTC(2026, 10, 9, 17))),
        row(Date.UTC(2026, 10, 9, 17), 429),
        ...Array.from({ length: 3 }, () => row(NOV_15 - 60_000)), // kept: within a day
        row(NOV_15 - 60_000, 401),
      ]);
      const before = await new PostgresQuotaCounter({ db: db.prisma, now: clock.now }).peek(
        orgId,
        100,
      );
      expect(before.used).toBe(12);

      const pruned = await pruneUsage(db.prisma, new Date(NOV_15));
      expect(pruned.rawDeleted).toBe(10);
      expect(await db.prisma.apiKeyUsage.count({ where: { organizationId: orgId } })).toBe(4);

      // A fresh counter (a restarted process) recounts from the rollups, which stay.
      const counter = new PostgresQuotaCounter({ db: db.prisma, now: clock.now });
      expect(await counter.peek(orgId, 100)).toMatchObject({ used: 12, remaining: 88 });
      expect((await counter.consume(orgId, 13)).used).toBe(13);
      expect((await counter.consume(orgId, 13)).allowed).toBe(false);
    } finally {
      await db.close();
    }
  });
});

describe("postgres quota counter: recounts", () => {
  it("recounts once per refresh, shared by concurrent requests, and per month", async () => {
    const clock = new TestClock(NOV_15);
    const calls: [string, number, number][] = [];
    let recorded = 5;
    const counter = new PostgresQuotaCounter({
      db: {} as Tx,
      now: clock.now,
      refreshMs: 60_000,
      countUsage: async (_db, orgId, from, to) => {
        calls.push([orgId, from.getTime(), to.getTime()]);
        await new Promise((r) => setTimeout(r, 5));
        return recorded;
      },
    });
    const org = randomUUID();
    const rs = await Promise.all(Array.from({ length: 20 }, () => counter.consume(org, 100)));
    expect(calls).toEqual([[org, Date.UTC(2026, 10, 1), DEC_1]]);
    expect(rs.map((r) => r.used).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => 6 + i),
    );
    clock.advance(59_999);
    expect((await counter.consume(org, 100)).used).toBe(26);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    recorded = 30; // the recorder caught up and another instance wrote 4
    expect((await counter.consume(org, 100)).used).toBe(31);
    expect(calls).toHaveLength(2);
    clock.set(DEC_1);
    recorded = 0;
    expect((await counter.consume(org, 100)).used).toBe(1);
    expect(calls[2]).toEqual([org, DEC_1, Date.UTC(2027, 0, 1)]);
  });

  it("a failed recount fails the request (the policy fails open) and is retried next time", async () => {
    let fail = true;
    const counter = new PostgresQuotaCounter({
      db: {} as Tx,
      now: () => NOV_15,
      countUsage: async () => {
        if (fail) throw new Error("connection refused");
        return 2;
      },
    });
    const org = randomUUID();
    await expect(counter.consume(org, 10)).rejects.toThrow("connection refused");
    fail = false;
    expect((await counter.consume(org, 10)).used).toBe(3);
  });
});
