// The sign-in throttle on every rate-limit store: attempts are reserved before the password is
// checked, so concurrent attempts never get more checks than the policy allows.
import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRateLimiter, type RateLimiter } from "@/lib/ratelimit";
import { POLICIES } from "@/lib/ratelimit/policies";
import type { RateLimitStore } from "@/lib/ratelimit/types";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { createSignInThrottle } from "./sign-in-throttle";

const EMAIL_LIMIT = POLICIES.signInPerEmail.limit;
const ADDRESS_LIMIT = POLICIES.signInPerAddress.limit;

type Kind = "memory" | `postgres (${string})` | "redis";
const kinds: Kind[] = [
  "memory",
  ...testDbKinds.map((k) => `postgres (${k})` as const),
  ...(process.env.REDIS_URL ? (["redis"] as const) : []),
];

describe.each(kinds)("sign-in throttle on %s", (kind) => {
  let limiter: RateLimiter;
  let db: TestDatabase | undefined;
  let redis: Redis | undefined;
  const prefix = `kw:test:${randomBytes(6).toString("hex")}:`;

  beforeAll(async () => {
    if (kind === "memory") limiter = createRateLimiter({ kind: "memory", quota: "memory" });
    else if (kind === "redis") {
      redis = new Redis(process.env.REDIS_URL as string);
      limiter = createRateLimiter({ kind: "redis", redis, prefix });
    } else {
      db = await createTestDatabase(kind.includes("pglite") ? "pglite" : "postgres");
      limiter = createRateLimiter({ kind: "postgres", db: db.prisma });
    }
  }, 60_000);
  afterAll(async () => {
    await limiter?.close();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    await db?.close();
  });

  const email = () => `u-${randomUUID()}@x.test`;
  const address = () => `198.51.100.${Math.floor(Math.random() * 250)}-${randomUUID()}`;

  it("admits exactly the email's limit of 60 concurrent attempts, from any addresses", async () => {
    const t = createSignInThrottle({ limiter });
    const who = email();
    const attempts = await Promise.all(
      Array.from({ length: 60 }, (_, i) => t.attempt(i % 2 ? who : who.toUpperCase(), address())),
    );
    expect(attempts.filter((a) => a.allowed)).toHaveLength(EMAIL_LIMIT);
    for (const a of attempts) {
      if (!a.allowed) expect(a.retryAfter).toBeGreaterThan(60);
    }
    // The right password changes nothing until the window slides: the next attempt is refused.
    expect((await t.attempt(who, address())).allowed).toBe(false);
    expect(await t.retryAfter(who, address())).toBeGreaterThan(60);
  });

  it("admits exactly the address's limit across many emails, and a refused address spends no email slot", async () => {
    const t = createSignInThrottle({ limiter });
    const ip = address();
    const attempts = await Promise.all(Array.from({ length: 50 }, () => t.attempt(email(), ip)));
    expect(attempts.filter((a) => a.allowed)).toHaveLength(ADDRESS_LIMIT);
    const victim = email();
    for (let i = 0; i < 10; i++) expect((await t.attempt(victim, ip)).allowed).toBe(false);
    // The victim's own slots are all still there for another address.
    const fromElsewhere = await Promise.all(
      Array.from({ length: EMAIL_LIMIT + 3 }, () => t.attempt(victim, address())),
    );
    expect(fromElsewhere.filter((a) => a.allowed)).toHaveLength(EMAIL_LIMIT);
  });

  it("an attempt refused for its email gives the address's slot back", async () => {
    const t = createSignInThrottle({ limiter });
    const ip = address();
    const locked = email();
    for (let i = 0; i < EMAIL_LIMIT; i++) await t.attempt(locked, address());
    for (let i = 0; i < ADDRESS_LIMIT * 2; i++) {
      expect((await t.attempt(locked, ip)).allowed).toBe(false);
    }
    const others = await Promise.all(
      Array.from({ length: ADDRESS_LIMIT }, () => t.attempt(email(), ip)),
    );
    expect(others.every((a) => a.allowed)).toBe(true);
  });

  it("a success clears the email's counter and refunds the address's slot", async () => {
    const t = createSignInThrottle({ limiter });
    const ip = address();
    const who = email();
    for (let i = 0; i < EMAIL_LIMIT - 1; i++) expect((await t.attempt(who, ip)).allowed).toBe(true);
    const last = await t.attempt(who, ip);
    if (!last.allowed) throw new Error("expected the last slot");
    await last.succeeded();
    for (let i = 0; i < EMAIL_LIMIT; i++)
      expect((await t.attempt(who, address())).allowed).toBe(true);
    // The address holds only the failures (EMAIL_LIMIT - 1), not the success.
    const rest = await Promise.all(
      Array.from({ length: ADDRESS_LIMIT }, () => t.attempt(email(), ip)),
    );
    expect(rest.filter((a) => a.allowed)).toHaveLength(ADDRESS_LIMIT - (EMAIL_LIMIT - 1));
  });

  it("an attempt never checked (password queue full) refunds both slots", async () => {
    const t = createSignInThrottle({ limiter });
    const ip = address();
    const who = email();
    for (let i = 0; i < EMAIL_LIMIT * 3; i++) {
      const a = await t.attempt(who, ip);
      if (!a.allowed) throw new Error(`attempt ${i} refused`);
      await a.abandoned();
    }
    expect(await t.retryAfter(who, ip)).toBe(0);
  });

  it("the operator's clear forgets an email's and an address's counters", async () => {
    const t = createSignInThrottle({ limiter });
    const ip = address();
    const who = email();
    await Promise.all(Array.from({ length: ADDRESS_LIMIT }, () => t.attempt(who, ip)));
    await Promise.all(Array.from({ length: ADDRESS_LIMIT }, () => t.attempt(email(), ip)));
    expect((await t.attempt(who, address())).allowed).toBe(false);
    expect((await t.attempt(email(), ip)).allowed).toBe(false);
    await t.clear({ email: who.toUpperCase(), address: ip });
    expect((await t.attempt(who, ip)).allowed).toBe(true);
    expect(await t.retryAfter(email(), ip)).toBe(0);
  });
});

describe("sign-in throttle when the store is down", () => {
  it("fails closed: every attempt is refused for a moment, and nothing is checked", async () => {
    const down = () => Promise.reject(new Error("connect ECONNREFUSED"));
    const broken: RateLimitStore = {
      hit: down,
      peek: down,
      reserve: down,
      release: down,
      reset: down,
      close: async () => {},
    };
    const limiter = createRateLimiter({ kind: "memory", quota: "memory" });
    const t = createSignInThrottle({
      limiter: { ...limiter, store: broken },
    });
    const logged: string[] = [];
    const original = console.error;
    console.error = (m: string) => logged.push(m);
    try {
      const a = await t.attempt("x@x.test", "203.0.113.9");
      expect(a).toEqual({ allowed: false, retryAfter: 1 });
    } finally {
      console.error = original;
      await limiter.close();
    }
  });
});
