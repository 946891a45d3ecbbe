// The verify path's combined Redis script (rate limit, then quota, one round trip): it passes
// the shared rate-limit and quota suites, and its own tests of the two together.
import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRateLimiter, type RateLimiter } from "@/lib/ratelimit";
import { RedisCreditStore } from "@/lib/ratelimit/credits";
import { limitKeyRequest, POLICIES, policyKey } from "@/lib/ratelimit/policies";
import { type QuotaCounter, RedisQuotaCounter } from "@/lib/ratelimit/quota";
import { RedisKeyRequestLimiter } from "@/lib/ratelimit/redis-key-request";
import { RedisRateLimitStore } from "@/lib/ratelimit/redis-store";
import type { RateLimitStore } from "@/lib/ratelimit/types";
import { type TestRedis, testRedis } from "@/tests/helpers/redis";
import { NOV_15, quotaSuite } from "./quota-suite";
import { alignedStart, runStoreSuite, TestClock } from "./store-suite";

const url = process.env.REDIS_URL;
const prefix = `kw:test:${randomBytes(6).toString("hex")}:`;
const HUGE = 1_000_000_000_000;

async function dropPrefix(redis: Redis): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

function parts(redis: Redis, clock: TestClock) {
  const store = new RedisRateLimitStore({ redis, prefix: `${prefix}rl:`, now: clock.now });
  const quota = new RedisQuotaCounter({ redis, prefix: `${prefix}quota:`, now: clock.now });
  const credits = new RedisCreditStore({ redis, prefix: `${prefix}credits:`, now: clock.now });
  return {
    store,
    quota,
    credits,
    combined: new RedisKeyRequestLimiter(store, quota, credits, clock.now),
  };
}

/** Records the commands a connection sends. */
function spy(redis: Redis): string[] {
  const sent: string[] = [];
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    sent.push(cmd.name);
    return (original as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof redis.sendCommand;
  return sent;
}

if (url) {
  // The rate-limit half: a quota that never binds, and the store's own peek and reset (which
  // read the same hash the script writes).
  runStoreSuite("redis, combined with the quota", async () => {
    const clock = new TestClock(alignedStart());
    const redis = new Redis(url);
    const { store, combined } = parts(redis, clock);
    const adapter: RateLimitStore = {
      hit: async (key, limit, windowMs, cost) =>
        (
          await combined.hit({
            key,
            limit,
            windowMs,
            cost,
            organizationId: randomUUID(),
            monthlyQuota: HUGE,
          })
        ).rateLimit,
      peek: (key, limit, windowMs, cost) => store.peek(key, limit, windowMs, cost),
      // Reservations go through the store's own script, on the same hash the combined one writes.
      reserve: (key, limit, windowMs, cost) => store.reserve(key, limit, windowMs, cost),
      release: (key, windowStart, windowMs, cost) =>
        store.release(key, windowStart, windowMs, cost),
      reset: (key) => store.reset(key),
      close: async () => {},
    };
    return {
      store: adapter,
      clock,
      newKey: async () => `k:${randomUUID()}`,
      async close() {
        await dropPrefix(redis);
        await redis.quit();
      },
    };
  });

  // The quota half: a rate limit that never binds, and the counter's own peek.
  quotaSuite("redis, combined with the rate limit", async () => {
    const clock = new TestClock(NOV_15);
    const redis = new Redis(url);
    const { quota, combined } = parts(redis, clock);
    const adapter: QuotaCounter = {
      consume: async (organizationId, limit, cost) => {
        const r = await combined.hit({
          key: `k:${randomUUID()}`,
          limit: HUGE,
          windowMs: 60_000,
          cost,
          organizationId,
          monthlyQuota: limit,
        });
        if (!r.quota) throw new Error("the rate limit refused");
        return r.quota;
      },
      peek: (organizationId, limit) => quota.peek(organizationId, limit),
      close: async () => {},
    };
    return {
      counter: adapter,
      clock,
      org: async () => randomUUID(),
      async close() {
        await dropPrefix(redis);
        await redis.quit();
      },
    };
  });
}

describe.skipIf(!url)("combined rate limit and quota script (redis)", () => {
  let redis: Redis;
  let clock: TestClock;
  let p: ReturnType<typeof parts>;
  beforeAll(() => {
    redis = new Redis(url as string);
    clock = new TestClock(alignedStart());
    p = parts(redis, clock);
  });
  afterAll(async () => {
    await dropPrefix(redis);
    await redis.quit();
  });
  const req = (key: string, org: string, limit: number, monthlyQuota: number) => ({
    key,
    limit,
    windowMs: 60_000,
    organizationId: org,
    monthlyQuota,
  });

  it("admits exactly 100 of 200 simultaneous requests and counts exactly 100 against quota", async () => {
    const key = `k:${randomUUID()}`;
    const org = randomUUID();
    const rs = await Promise.all(
      Array.from({ length: 200 }, () => p.combined.hit(req(key, org, 100, 1_000))),
    );
    const admitted = rs.filter((r) => r.rateLimit.allowed);
    expect(admitted).toHaveLength(100);
    // Refused by the rate limit: the quota was not looked at, let alone spent.
    expect(rs.filter((r) => !r.rateLimit.allowed).every((r) => r.quota === undefined)).toBe(true);
    expect(admitted.every((r) => r.quota?.allowed)).toBe(true);
    expect(new Set(admitted.map((r) => r.quota?.used))).toEqual(
      new Set(Array.from({ length: 100 }, (_, i) => i + 1)),
    );
    expect(new Set(admitted.map((r) => r.rateLimit.remaining)).size).toBe(100);
    expect((await p.quota.peek(org, 1_000)).used).toBe(100);
    expect((await p.store.peek(key, 100, 60_000)).allowed).toBe(false);
  });

  it("when the quota runs out first: the rate limit still counts, the quota stops at its limit", async () => {
    const key = `k:${randomUUID()}`;
    const org = randomUUID();
    const rs = await Promise.all(
      Array.from({ length: 200 }, () => p.combined.hit(req(key, org, 100, 60))),
    );
    expect(rs.filter((r) => r.rateLimit.allowed)).toHaveLength(100);
    expect(rs.filter((r) => r.quota?.allowed)).toHaveLength(60);
    const refused = rs.filter((r) => r.quota && !r.quota.allowed);
    expect(refused).toHaveLength(40);
    expect(refused.every((r) => r.quota?.used === 60 && r.quota.remaining === 0)).toBe(true);
    expect((await p.quota.peek(org, 60)).used).toBe(60);
    expect((await p.store.peek(key, 100, 60_000)).remaining).toBe(0);
  });

  it("shares its counters with the store and the counter used one by one", async () => {
    const key = `k:${randomUUID()}`;
    const org = randomUUID();
    await p.store.hit(key, 5, 60_000);
    await p.quota.consume(org, 10, 3);
    const r = await p.combined.hit(req(key, org, 5, 10));
    expect(r.rateLimit).toMatchObject({ allowed: true, remaining: 3 });
    expect(r.quota).toMatchObject({ allowed: true, used: 4, remaining: 6 });
    expect((await p.store.hit(key, 5, 60_000)).remaining).toBe(2);
    expect((await p.quota.consume(org, 10)).used).toBe(5);
  });

  it("instances sharing one Redis share one limit and one quota", async () => {
    const other = new Redis(url as string);
    const q = parts(other, clock);
    const key = `k:${randomUUID()}`;
    const org = randomUUID();
    const rs = await Promise.all(
      Array.from({ length: 120 }, (_, i) => (i % 2 ? p : q).combined.hit(req(key, org, 80, 50))),
    );
    expect(rs.filter((r) => r.rateLimit.allowed)).toHaveLength(80);
    expect(rs.filter((r) => r.quota?.allowed)).toHaveLength(50);
    await other.quit();
  });

  it("refuses nonsense arguments before counting anything", async () => {
    const key = `k:${randomUUID()}`;
    const org = randomUUID();
    await expect(p.combined.hit(req(key, org, -1, 10))).rejects.toThrow(RangeError);
    await expect(p.combined.hit(req(key, org, 10, -1))).rejects.toThrow(RangeError);
    await expect(p.combined.hit({ ...req(key, org, 10, 10), cost: 0 })).rejects.toThrow(RangeError);
    expect((await p.store.peek(key, 10, 60_000)).remaining).toBe(10);
    expect((await p.quota.peek(org, 10)).used).toBe(0);
  });
});

// On a redis-server of its own: the case below flushes the server's script cache, which is shared
// by every client of a server, so on the shared Redis a test file running beside it could load
// the script again between the flush and the request (and would lose its own loaded scripts).
describe.skipIf(!url)("limitKeyRequest on a redis limiter", () => {
  let limiter: RateLimiter;
  let sent: string[];
  let own: TestRedis;
  beforeAll(async () => {
    own = await testRedis();
    await own.start();
    limiter = createRateLimiter({ kind: "redis", url: own.url, prefix });
    sent = spy((limiter.store as RedisRateLimitStore).redis);
  });
  afterAll(async () => {
    await limiter?.close();
    await own?.kill();
  });

  it("costs one round trip per request, and EVAL once when the server lost the script", async () => {
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 3,
      monthlyQuota: 100,
    };
    await limitKeyRequest(req, { limiter }); // may load the script
    sent.length = 0;
    expect((await limitKeyRequest(req, { limiter })).code).toBe("OK");
    expect(sent).toEqual(["evalsha"]);
    const admin = new Redis(own.url);
    await admin.script("FLUSH");
    await admin.quit();
    sent.length = 0;
    const third = await limitKeyRequest(req, { limiter });
    expect(third).toMatchObject({ code: "OK", rateLimit: { remaining: 0, policy: "key-rpm" } });
    expect(third.quota).toMatchObject({ allowed: true, used: 3 });
    expect(sent).toEqual(["evalsha", "eval"]);
    sent.length = 0;
    const fourth = await limitKeyRequest(req, { limiter });
    expect(fourth.code).toBe("RATE_LIMITED");
    expect(fourth.rateLimit.retryAfterMs).toBeGreaterThan(0);
    expect(sent).toEqual(["evalsha"]);
    // Same keys as the store and counter alone would use.
    expect((await limiter.quota.peek(req.organizationId, 100)).used).toBe(3);
    const key = policyKey(POLICIES.apiKey, req.apiKeyId);
    expect((await limiter.store.peek?.(key, 3, 60_000))?.allowed).toBe(false);
  });

  it("answers QUOTA_EXCEEDED once the month is used up; refusals spend nothing", async () => {
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 100,
      monthlyQuota: 2,
    };
    const outs = [];
    for (let i = 0; i < 4; i++) outs.push(await limitKeyRequest(req, { limiter }));
    expect(outs.map((o) => o.code)).toEqual(["OK", "OK", "QUOTA_EXCEEDED", "QUOTA_EXCEEDED"]);
    expect(outs[3].quota).toMatchObject({ allowed: false, used: 2, remaining: 0 });
    expect(outs[3].rateLimit).toMatchObject({ allowed: true, remaining: 96 });
  });

  it("admits exactly the limit of 200 simultaneous requests, and spends quota only for those", async () => {
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 100,
      monthlyQuota: 10_000,
    };
    const outs = await Promise.all(
      Array.from({ length: 200 }, () => limitKeyRequest(req, { limiter })),
    );
    expect(outs.filter((o) => o.code === "OK")).toHaveLength(100);
    expect(outs.filter((o) => o.code === "RATE_LIMITED")).toHaveLength(100);
    expect((await limiter.quota.peek(req.organizationId, 10_000)).used).toBe(100);
  });
});

describe("limitKeyRequest on a redis limiter when Redis is unreachable", () => {
  it("falls back to the in-process limit and an open quota", async () => {
    const limiter = createRateLimiter({ kind: "redis", url: "redis://127.0.0.1:1" });
    const logs: string[] = [];
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 2,
      monthlyQuota: 1,
    };
    const outs = [];
    for (let i = 0; i < 3; i++) {
      outs.push(await limitKeyRequest(req, { limiter, log: (m) => logs.push(m) }));
    }
    expect(outs.map((o) => [o.code, o.rateLimit.degraded, o.quota?.degraded])).toEqual([
      ["OK", "local", true],
      ["OK", "local", true], // the quota of 1 is not enforced while its store is down
      ["RATE_LIMITED", "local", undefined],
    ]);
    expect(logs.length).toBeLessThanOrEqual(1);
    await limiter.close();
  });
});
