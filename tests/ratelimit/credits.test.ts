import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db";
import { creditPeriod, effectiveBalance } from "@/lib/ratelimit/credits";
import { createRateLimiter, type RateLimiter } from "@/lib/ratelimit/index";
import { createTestDatabase, testDbKinds } from "@/tests/helpers/db";
import { creditSuite, DEC_1_NOON } from "./credits-suite";
import { createApiKeyRow, createOrganization } from "./fixtures";
import { TestClock } from "./store-suite";

describe("credit periods and the refill rule", () => {
  it("names the UTC day or month, or '-' without refill", () => {
    const t = Date.UTC(2026, 11, 31, 23, 59, 59, 999);
    expect(creditPeriod({ initial: 1, refill: null }, t)).toBe("-");
    expect(creditPeriod({ initial: 1, refill: { amount: 1, interval: "day" } }, t)).toBe(
      "d:2026-12-31",
    );
    expect(creditPeriod({ initial: 1, refill: { amount: 1, interval: "month" } }, t + 1)).toBe(
      "m:2027-01",
    );
  });

  it("starts from the row's balance, refills in a new period, keeps the balance without refill", () => {
    const refill = { initial: 5, refill: { amount: 9, interval: "day" as const } };
    expect(effectiveBalance(undefined, refill, "d:2026-12-01")).toBe(5);
    expect(effectiveBalance({ remaining: 2, period: "d:2026-12-01" }, refill, "d:2026-12-01")).toBe(
      2,
    );
    expect(effectiveBalance({ remaining: 2, period: "d:2026-11-30" }, refill, "d:2026-12-01")).toBe(
      9,
    );
    const none = { initial: 5, refill: null };
    expect(effectiveBalance({ remaining: 2, period: "d:2026-11-30" }, none, "-")).toBe(2);
  });
});

creditSuite("memory", async () => {
  const clock = new TestClock(DEC_1_NOON);
  const limiter = createRateLimiter({ kind: "memory", quota: "memory", now: clock.now });
  return {
    clock,
    instances: false,
    limiter: () => limiter,
    newKey: async () => ({ keyId: randomUUID(), orgId: randomUUID() }),
    close: () => limiter.close(),
  };
});

for (const kind of testDbKinds) {
  creditSuite(`postgres (${kind})`, async () => {
    const db = await createTestDatabase(kind);
    const clock = new TestClock(DEC_1_NOON);
    // A second instance: its own connection pool on the same server database (PGlite has one
    // owner, so there the second instance shares the one connection).
    const other = db.url ? await openDatabase({ kind: "postgres", url: db.url }) : null;
    const made: RateLimiter[] = [];
    return {
      clock,
      instances: true,
      limiter() {
        const prisma = made.length % 2 === 1 && other ? other.prisma : db.prisma;
        const l = createRateLimiter({ kind: "postgres", db: prisma, now: clock.now });
        made.push(l);
        return l;
      },
      async newKey() {
        const orgId = await createOrganization(db.prisma);
        return { orgId, keyId: await createApiKeyRow(db.prisma, orgId) };
      },
      async close() {
        for (const l of made) await l.close();
        await other?.close();
        await db.close();
      },
    };
  });
}

// The embedded default's store: balances in process, written behind (credits-write-behind.ts).
// One process owns the folder, so there is no second instance.
creditSuite("write-behind (pglite)", async () => {
  const db = await createTestDatabase("pglite");
  const clock = new TestClock(DEC_1_NOON);
  const limiter = createRateLimiter({
    kind: "memory",
    quota: "database",
    creditsFlushMs: 1000,
    db: db.prisma,
    now: clock.now,
  });
  return {
    clock,
    instances: false,
    limiter: () => limiter,
    async newKey() {
      const orgId = await createOrganization(db.prisma);
      return { orgId, keyId: await createApiKeyRow(db.prisma, orgId) };
    },
    async close() {
      await limiter.close();
      await db.close();
    },
  };
});

const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  creditSuite("redis", async () => {
    const clock = new TestClock(DEC_1_NOON);
    const prefix = `kw:test:${randomBytes(6).toString("hex")}:`;
    const connections: Redis[] = [];
    return {
      clock,
      instances: true,
      limiter() {
        const redis = new Redis(redisUrl);
        connections.push(redis);
        return createRateLimiter({ kind: "redis", redis, prefix, now: clock.now });
      },
      newKey: async () => ({ keyId: randomUUID(), orgId: randomUUID() }),
      async close() {
        const first = connections[0];
        if (first) {
          const keys = await first.keys(`${prefix}*`);
          if (keys.length) await first.del(...keys);
        }
        for (const c of connections) await c.quit();
      },
    };
  });
}
