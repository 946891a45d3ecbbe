import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeywardError } from "@/lib/errors";
import { rateLimitHeaders } from "@/lib/http/ratelimit-headers";
import {
  closeRateLimiter,
  createRateLimiter,
  getRateLimiter,
  type RateLimiter,
  rateLimitConfigFromEnv,
  setRateLimiter,
} from "@/lib/ratelimit";
import { MemoryCreditStore } from "@/lib/ratelimit/credits";
import { MemoryRateLimitStore } from "@/lib/ratelimit/memory-store";
import {
  assertRateLimit,
  limit,
  limitKeyRequest,
  POLICIES,
  retryAfterSeconds,
} from "@/lib/ratelimit/policies";
import { MemoryQuotaCounter, type QuotaCounter } from "@/lib/ratelimit/quota";
import { SpendCounter } from "@/lib/ratelimit/spend";
import type { RateLimitStore } from "@/lib/ratelimit/types";
import { alignedStart, TestClock } from "./store-suite";

const broken: RateLimitStore = {
  hit: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
  peek: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
  reserve: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
  release: () => Promise.reject(new Error("down")),
  reset: () => Promise.reject(new Error("down")),
  close: async () => {},
};
const brokenQuota: QuotaCounter = {
  consume: () => Promise.reject(new Error("down")),
  peek: () => Promise.reject(new Error("down")),
  close: async () => {},
};

function limiterWith(store: RateLimitStore, quota?: QuotaCounter): RateLimiter {
  const local = new MemoryRateLimitStore();
  return {
    kind: "redis",
    store,
    quota: quota ?? new MemoryQuotaCounter(),
    credits: new MemoryCreditStore(),
    spend: new SpendCounter({ db: () => Promise.reject(new Error("no database here")) }),
    local,
    close: async () => {},
  };
}

describe("rateLimitConfigFromEnv", () => {
  it("chooses by RATE_LIMIT_STORE, else redis when REDIS_URL is set, else memory", () => {
    // The embedded database (no DATABASE_URL): credits written behind every second, or every
    // spend with KEYWARD_CREDITS_FLUSH_MS=0; on a PostgreSQL server always every spend.
    expect(rateLimitConfigFromEnv({})).toEqual({
      kind: "memory",
      quota: "database",
      creditsFlushMs: 1000,
    });
    expect(rateLimitConfigFromEnv({ KEYWARD_CREDITS_FLUSH_MS: "250" })).toMatchObject({
      creditsFlushMs: 250,
    });
    expect(rateLimitConfigFromEnv({ KEYWARD_CREDITS_FLUSH_MS: "0" })).toEqual({
      kind: "memory",
      quota: "database",
    });
    expect(rateLimitConfigFromEnv({ DATABASE_URL: "postgresql://db/x" })).toEqual({
      kind: "memory",
      quota: "database",
    });
    expect(rateLimitConfigFromEnv({ REDIS_URL: "redis://r:6379" })).toEqual({
      kind: "redis",
      url: "redis://r:6379",
    });
    expect(
      rateLimitConfigFromEnv({ RATE_LIMIT_STORE: "memory", REDIS_URL: "redis://r" }).kind,
    ).toBe("memory");
    expect(rateLimitConfigFromEnv({ RATE_LIMIT_STORE: "postgres" })).toEqual({ kind: "postgres" });
    expect(() => rateLimitConfigFromEnv({ RATE_LIMIT_STORE: "redis" })).toThrow(/REDIS_URL/);
    expect(() => rateLimitConfigFromEnv({ RATE_LIMIT_STORE: "etcd" })).toThrow(/memory, postgres/);
  });
});

describe("getRateLimiter", () => {
  afterEach(() => closeRateLimiter());

  it("is one per process, kept on globalThis, and closes at shutdown", async () => {
    vi.stubEnv("RATE_LIMIT_STORE", "memory");
    const a = getRateLimiter();
    expect(getRateLimiter()).toBe(a);
    const held = (globalThis as unknown as Record<symbol, { limiter?: RateLimiter }>)[
      Symbol.for("keyward.ratelimit")
    ];
    expect(held.limiter).toBe(a);
    expect(a.kind).toBe("memory");
    const { shutdown } = await import("@/lib/lifecycle");
    await shutdown(() => {});
    expect(held.limiter).toBeUndefined();
    vi.unstubAllEnvs();
  });
});

describe("policies", () => {
  it("applies a named policy per identifier, with an override of the limit", async () => {
    const limiter = createRateLimiter({ kind: "memory" });
    const id = randomUUID();
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await limit("apiKey", id, { limit: 3, limiter }));
    expect(rs.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(rs[0].policy).toBe("key-rpm");
    expect((await limit(POLICIES.apiKey, randomUUID(), { limiter })).remaining).toBe(59);
  });

  it("sign-in: 5 failures per e-mail per 15 minutes; peek does not count", async () => {
    const clock = new TestClock(alignedStart());
    const limiter = createRateLimiter({ kind: "memory", now: clock.now });
    const email = "a@example.test";
    for (let i = 0; i < 5; i++) await limit("signInPerEmail", email, { limiter });
    const blocked = await limit("signInPerEmail", email, { limiter, peek: true });
    expect(blocked.allowed).toBe(false);
    expect(blocked.retryAfterMs).toBeGreaterThan(14 * 60_000);
    expect((await limit("signInPerEmail", "b@example.test", { limiter, peek: true })).allowed).toBe(
      true,
    );
    await expect(assertRateLimit("signInPerEmail", email, { limiter })).rejects.toMatchObject({
      code: "RATE_LIMITED",
      status: 429,
    });
  });

  it("assertRateLimit gives Retry-After in whole seconds", async () => {
    const limiter = createRateLimiter({ kind: "memory" });
    const ip = "203.0.113.9";
    await assertRateLimit("verifyFailuresPerAddress", ip, { limiter, limit: 1 });
    const err = await assertRateLimit("verifyFailuresPerAddress", ip, { limiter, limit: 1 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(KeywardError);
    expect(Number.isInteger(err.extra.retryAfter)).toBe(true);
    expect(err.extra.retryAfter).toBeGreaterThanOrEqual(1);
    expect(err.extra.retryAfter).toBeLessThanOrEqual(120);
  });

  it("headers: RateLimit-* and Retry-After in seconds", () => {
    const now = 1_000_000;
    expect(
      rateLimitHeaders(
        { allowed: true, limit: 60, remaining: 59, reset: now + 1500, retryAfterMs: 0 },
        now,
      ),
    ).toEqual({ "ratelimit-limit": "60", "ratelimit-remaining": "59", "ratelimit-reset": "2" });
    const denied = rateLimitHeaders(
      { allowed: false, limit: 60, remaining: 0, reset: now + 6001, retryAfterMs: 6001 },
      now,
    );
    expect(denied["retry-after"]).toBe("7");
    expect(retryAfterSeconds({ retryAfterMs: 10 })).toBe(1);
  });
});

describe("when the store fails", () => {
  it("API traffic fails open to the in-process limiter (still limited, per instance)", async () => {
    const logs: string[] = [];
    const limiter = limiterWith(broken);
    const id = randomUUID();
    const rs = [];
    for (let i = 0; i < 3; i++) {
      rs.push(await limit("apiKey", id, { limiter, limit: 2, log: (m) => logs.push(m) }));
    }
    expect(rs.map((r) => [r.allowed, r.degraded])).toEqual([
      [true, "local"],
      [true, "local"],
      [false, "local"],
    ]);
    expect(logs.length).toBeLessThanOrEqual(1); // throttled
    expect(logs.join()).not.toContain(id);
  });

  it("sign-in fails closed", async () => {
    const limiter = limiterWith(broken);
    const r = await limit("signInPerAddress", "198.51.100.7", { limiter, log: () => {} });
    expect(r).toMatchObject({ allowed: false, degraded: "closed", retryAfterMs: 1000 });
    await expect(
      assertRateLimit("signInPerEmail", "x@example.test", { limiter, log: () => {} }),
    ).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it("a real unreachable Redis: the verify path answers within the command timeout", async () => {
    const limiter = createRateLimiter({ kind: "redis", url: "redis://127.0.0.1:1" });
    const started = Date.now();
    const out = await limitKeyRequest(
      {
        apiKeyId: randomUUID(),
        organizationId: randomUUID(),
        requestsPerMinute: 5,
        monthlyQuota: 10,
      },
      { limiter, log: () => {} },
    );
    expect(out.code).toBe("OK");
    expect(out.rateLimit.degraded).toBe("local");
    expect(out.quota?.degraded).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    await limiter.close();
  });

  it("the monthly quota fails open (allowed, marked degraded)", async () => {
    const limiter = limiterWith(new MemoryRateLimitStore(), brokenQuota);
    const out = await limitKeyRequest(
      {
        apiKeyId: randomUUID(),
        organizationId: randomUUID(),
        requestsPerMinute: 5,
        monthlyQuota: 10,
      },
      { limiter, log: () => {} },
    );
    expect(out.code).toBe("OK");
    expect(out.rateLimit.degraded).toBeUndefined();
    expect(out.quota).toMatchObject({ allowed: true, degraded: true });
  });

  it("argument errors are not mistaken for outages", async () => {
    const limiter = createRateLimiter({ kind: "memory" });
    await expect(limit("apiKey", "k", { limiter, limit: -1 })).rejects.toThrow(RangeError);
  });
});

describe("limitKeyRequest: rate limit, then quota, spent last", () => {
  it("spends quota only when the rate limit admitted the request", async () => {
    const limiter = createRateLimiter({ kind: "memory" });
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 3,
      monthlyQuota: 100,
    };
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await limitKeyRequest(req, { limiter })).code);
    expect(codes).toEqual(["OK", "OK", "OK", "RATE_LIMITED", "RATE_LIMITED"]);
    expect((await limiter.quota.peek(req.organizationId, 100)).used).toBe(3);
  });

  it("answers QUOTA_EXCEEDED when the month is used up", async () => {
    const limiter = createRateLimiter({ kind: "memory" });
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 100,
      monthlyQuota: 2,
    };
    const outs = [];
    for (let i = 0; i < 3; i++) outs.push(await limitKeyRequest(req, { limiter }));
    expect(outs.map((o) => o.code)).toEqual(["OK", "OK", "QUOTA_EXCEEDED"]);
    expect(outs[2].quota).toMatchObject({ allowed: false, used: 2, remaining: 0 });
  });
});

describe.skipIf(!process.env.REDIS_URL)("createRateLimiter (redis)", () => {
  it("store and quota share one connection and one prefix", async () => {
    const prefix = `kw:test:${randomBytes(6).toString("hex")}:`;
    const limiter = createRateLimiter({ kind: "redis", url: process.env.REDIS_URL, prefix });
    setRateLimiter(limiter);
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 2,
      monthlyQuota: 9,
    };
    expect((await limitKeyRequest(req)).code).toBe("OK");
    expect((await limitKeyRequest(req)).code).toBe("OK");
    expect((await limitKeyRequest(req)).code).toBe("RATE_LIMITED");
    expect((await limiter.quota.peek(req.organizationId, 9)).used).toBe(2);
    const { Redis } = await import("ioredis");
    const admin = new Redis(process.env.REDIS_URL as string);
    const keys = await admin.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    expect(keys).toContain(`${prefix}key-rpm:${req.apiKeyId}`);
    expect(keys.some((k) => k.startsWith(`${prefix}quota:${req.organizationId}:`))).toBe(true);
    await admin.del(...keys);
    await admin.quit();
    await closeRateLimiter();
  });
});
