// Redis failing under a running Keyward (PRODUCT.md section 8, docs/operations.md "When a
// dependency fails"): the test runs a redis-server of its own, kills it mid-run and starts it
// again on the same port, against both verify lanes (lean lane and Next route handler).
// While Redis is down: verify answers fast (p99 < 100 ms more than with Redis up, measured in
// the same run), each policy fails the documented way
// (per-key rate limit and quota open to the in-process fallback, which still enforces the key's
// limit; failed verifies per address fall back to the in-process limiter; sign-in fails closed),
// and health says "degraded" naming Redis. After the restart Keyward uses Redis again by itself.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "@/lib/keys";
import { createRateLimiter } from "@/lib/ratelimit";
import { limit, limitKeyRequest } from "@/lib/ratelimit/policies";
import { type TestRedis, testRedis } from "@/tests/helpers/redis";
import { runCli, startServer, type TestServer } from "@/tests/helpers/server";

const database = process.env.DATABASE_URL ? "postgres" : "embedded";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(server: TestServer, args: string[]): Promise<Record<string, unknown>> {
  const env =
    database === "postgres"
      ? { DATABASE_URL: server.databaseUrl, REDIS_URL: undefined }
      : { DATABASE_URL: undefined, REDIS_URL: undefined, KEYWARD_DATA_DIR: server.dataDir };
  const r = await runCli([...args, "--json"], env);
  if (r.code !== 0) throw new Error(`keyward ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function verify(server: TestServer, key: string) {
  const started = performance.now();
  const r = await fetch(`${server.url}/api/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });
  const body = (await r.json()) as { valid?: boolean; code?: string };
  return { status: r.status, code: body.code, ms: performance.now() - started };
}

async function health(server: TestServer) {
  const r = await fetch(`${server.url}/api/v1/health`);
  // biome-ignore lint/suspicious/noExplicitAny: fields checked one by one
  return { status: r.status, body: (await r.json()) as any };
}

function p99(ms: number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

const FAKE_KEY = generateKey("live").key; // well-formed, checksum-valid, never issued

describe.each(["lean", "route handler"] as const)("Redis dies under Keyward (%s lane)", (lane) => {
  let redis: TestRedis;
  let server: TestServer;
  let fast: { id: string; key: string };
  let limited: { id: string; key: string };
  let orgId: string;
  let peek: Redis;
  /** The same loop's p99 and slowest with Redis up, measured in this run just before the kill. */
  let baselineP99 = 0;
  let baselineMax = 0;

  beforeAll(async () => {
    redis = await testRedis();
    await redis.start();
    server = await startServer({
      database,
      readyTimeoutMs: 240_000,
      env: {
        REDIS_URL: redis.url,
        RATE_LIMIT_STORE: undefined,
        KEYWARD_LEAN_LANE: lane === "lean" ? "1" : "0",
      },
    });
    const org = await cli(server, [
      "org:create",
      "--name",
      `Redis outage ${lane}`,
      "--email",
      `redis-${randomUUID()}@example.test`,
      "--plan",
      "ENTERPRISE",
    ]);
    orgId = String(org.id);
    const slug = String(org.slug);
    const mk = async (name: string, rate: number) => {
      const k = await cli(server, [
        "keys:create",
        ...["--org", slug, "--name", name, "--env", "live", "--rate-limit", String(rate)],
      ]);
      return { id: String(k.id), key: String(k.key) };
    };
    fast = await mk("fast", 1_000_000);
    limited = await mk("limited", 3);
    peek = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    peek.on("error", () => {});
  }, 400_000);

  afterAll(async () => {
    peek?.disconnect();
    await server?.stop();
    await redis?.kill();
  });

  it("with Redis up: health ok naming Redis, and verify counts in Redis", async () => {
    // Right after the start the first checks may still be connecting: wait for ok.
    const deadline = Date.now() + 15_000;
    let h = await health(server);
    while (h.status !== 200 && Date.now() < deadline) {
      await sleep(300);
      h = await health(server);
    }
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: "ok",
      database: "ok",
      dependencies: { database: "ok", redis: "ok" },
    });
    // The same loop as after the kill, for comparison in the log (this machine's own noise).
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await verify(server, fast.key);
      expect(r.code).toBe("VALID");
      times.push(r.ms);
    }
    baselineP99 = p99(times);
    baselineMax = Math.max(...times);
    console.log(
      `verify with Redis up (${lane}): p99 ${baselineP99.toFixed(1)} ms, slowest ${baselineMax.toFixed(0)} ms`,
    );
    await peek.connect();
    expect(Number(await peek.hget(`kw:rl:key-rpm:${fast.id}`, "c"))).toBeGreaterThanOrEqual(5);
    expect(await peek.keys(`kw:quota:${orgId}:*`)).toHaveLength(1);
    peek.disconnect();
  });

  it("Redis killed: verify stays fast and fails open to the in-process limiter", async () => {
    await redis.kill();
    const times: number[] = [];
    const codes = new Set<string | undefined>();
    for (let i = 0; i < 200; i++) {
      const r = await verify(server, fast.key);
      times.push(r.ms);
      codes.add(`${r.status} ${r.code}`);
    }
    // Open: the per-key limit and the quota do not take the API down with Redis.
    expect([...codes]).toEqual(["200 VALID"]);
    const sorted = [...times].sort((a, b) => a - b);
    console.log(
      `verify after the kill (${lane}): p50 ${sorted[100]?.toFixed(1)} ms, p99 ${p99(times).toFixed(1)} ms, slowest ${sorted
        .slice(-5)
        .map((t) => t.toFixed(0))
        .join(", ")}; the first five ${times
        .slice(0, 5)
        .map((t) => t.toFixed(0))
        .join(", ")}`,
    );
    // PRODUCT.md section 8: verify answers within 100 ms while Redis is down. What the outage may
    // add is measured against the same loop with Redis up, moments before in this run (the first
    // test): the wall time of a request on this machine is its load as much as Keyward, and the
    // load shows in both loops. Idle, that p99 is a few ms and this is the contract's 100 ms; a
    // verify that waited on Redis (a command timeout, a reconnect) is 100 ms more, loaded or not.
    expect(p99(times)).toBeLessThan(baselineP99 + 100);
    // Nothing like the command timeout of old (500 ms) or ioredis's offline queue.
    expect(Math.max(...times)).toBeLessThan(baselineMax + 500);

    // ...but the key's limit is still enforced, per instance, by the in-process fallback.
    const limitedCodes = [];
    for (let i = 0; i < 5; i++) limitedCodes.push((await verify(server, limited.key)).code);
    expect(limitedCodes).toEqual(["VALID", "VALID", "VALID", "RATE_LIMITED", "RATE_LIMITED"]);
  });

  it("Redis killed: failed verifies per address are still limited, in process (100 a minute)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 101; i++) statuses.push((await verify(server, FAKE_KEY)).status);
    expect(statuses.slice(0, 100).every((s) => s === 200)).toBe(true);
    expect(statuses[100]).toBe(429);
    // A valid key is never throttled by its address.
    expect((await verify(server, fast.key)).code).toBe("VALID");
  });

  it("Redis killed: health answers 200 degraded, naming Redis, quickly", async () => {
    const started = performance.now();
    const h = await health(server);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: "degraded",
      database: "ok",
      dependencies: { database: "ok", redis: "unavailable" },
    });
  });

  it("Redis back on the same port: health ok again and Redis counts again, no restart", async () => {
    await redis.start();
    const deadline = Date.now() + 15_000;
    let h = await health(server);
    while (h.body.dependencies?.redis !== "ok" && Date.now() < deadline) {
      await sleep(200);
      h = await health(server);
    }
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: "ok", dependencies: { redis: "ok" } });
    for (let i = 0; i < 3; i++) expect((await verify(server, fast.key)).code).toBe("VALID");
    // The restarted Redis is empty: these counters were written after the restart.
    await peek.connect();
    expect(Number(await peek.hget(`kw:rl:key-rpm:${fast.id}`, "c"))).toBeGreaterThanOrEqual(3);
    expect(await peek.keys(`kw:quota:${orgId}:*`)).toHaveLength(1);
    peek.disconnect();
    expect(server.proc.exitCode).toBeNull();
  });
});

describe("the policies on a Redis that was killed (in this process)", () => {
  it("sign-in fails closed at once; the key's limit and the quota fail open at once", async () => {
    const redis = await testRedis();
    await redis.start();
    const limiter = createRateLimiter({ kind: "redis", url: redis.url });
    const log = () => {};
    const req = {
      apiKeyId: randomUUID(),
      organizationId: randomUUID(),
      requestsPerMinute: 5,
      monthlyQuota: 10,
    };
    try {
      expect((await limitKeyRequest(req, { limiter, log })).rateLimit.degraded).toBeUndefined();
      expect(await limiter.redisHealth?.()).toBe("ok");
      await redis.kill();
      await sleep(50); // the connection notices the close
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const signIn = await limit("signInPerEmail", "someone@example.test", { limiter, log });
        const key = await limitKeyRequest(req, { limiter, log });
        expect(performance.now() - started).toBeLessThan(100);
        expect(signIn).toMatchObject({ allowed: false, degraded: "closed" });
        expect(key.rateLimit.degraded).toBe("local");
      }
      expect(await limiter.redisHealth?.()).toBe("unavailable");
      await redis.start();
      const deadline = Date.now() + 10_000;
      while ((await limiter.redisHealth?.()) !== "ok" && Date.now() < deadline) await sleep(100);
      expect(await limiter.redisHealth?.()).toBe("ok");
      const after = await limit("signInPerEmail", "someone@example.test", { limiter, log });
      expect(after.degraded).toBeUndefined();
      expect(after.allowed).toBe(true);
    } finally {
      await limiter.close();
      await redis.kill();
    }
  }, 30_000);
});
