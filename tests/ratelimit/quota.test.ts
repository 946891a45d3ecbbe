import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import {
  MemoryQuotaCounter,
  monthOf,
  PostgresQuotaCounter,
  type QuotaCounter,
  RedisQuotaCounter,
} from "@/lib/ratelimit/quota";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { pruneUsage } from "@/lib/services/usage-retention";
import { createTestDatabase, testDbKinds } from "@/tests/helpers/db";
import { createApiKeyRow, createOrganization } from "./fixtures";
import { TestClock } from "./store-suite";

const NOV_15 = Date.UTC(2026, 10, 15, 12);
const DEC_1 = Date.UTC(2026, 11, 1);

describe("monthOf", () => {
  it("gives the UTC calendar month", () => {
    expect(monthOf(NOV_15)).toEqual({ key: "2026-11", start: Date.UTC(2026, 10, 1), end: DEC_1 });
    expect(monthOf(DEC_1 - 1).key).toBe("2026-11");
    expect(monthOf(DEC_1).key).toBe("2026-12");
    expect(monthOf(Date.UTC(2026, 11, 31, 23)).end).toBe(Date.UTC(2027, 0, 1));
  });
});

type Harness = { counter: QuotaCounter; clock: TestClock; org(): Promise<string> };

function quotaSuite(name: string, make: () => Promise<Harness & { close(): Promise<void> }>) {
  describe(`quota counter: ${name}`, () => {
    let h: Harness & { close(): Promise<void> };
    afterAll(() => h?.close());

    it("spends up to the quota, refuses after, and a refusal spends nothing", async () => {
      h = await make();
      h.clock.set(NOV_15);
      const org = await h.org();
      const rs = [];
      for (let i = 0; i < 5; i++) rs.push(await h.counter.consume(org, 3));
      expect(rs.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
      expect(rs.map((r) => r.used)).toEqual([1, 2, 3, 3, 3]);
      expect(rs[2]).toEqual({ allowed: true, limit: 3, used: 3, remaining: 0, reset: DEC_1 });
      expect(await h.counter.peek(org, 3)).toMatchObject({ allowed: false, used: 3 });
      expect((await h.counter.consume(org, 5)).used).toBe(4); // a raised quota applies at once
    });

    it("counts a cost, keeps organizations apart, and starts afresh each month", async () => {
      h.clock.set(NOV_15);
      const a = await h.org();
      const b = await h.org();
      expect((await h.counter.consume(a, 10, 7)).remaining).toBe(3);
      expect((await h.counter.consume(a, 10, 4)).allowed).toBe(false);
      expect((await h.counter.consume(b, 10)).used).toBe(1);
      h.clock.set(DEC_1);
      const r = await h.counter.consume(a, 10);
      expect(r).toMatchObject({ allowed: true, used: 1, reset: Date.UTC(2027, 0, 1) });
    });

    it("is exact under concurrency: 50 of 80 simultaneous requests", async () => {
      h.clock.set(NOV_15);
      const org = await h.org();
      const rs = await Promise.all(Array.from({ length: 80 }, () => h.counter.consume(org, 50)));
      expect(rs.filter((r) => r.allowed)).toHaveLength(50);
    });
  });
}

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
