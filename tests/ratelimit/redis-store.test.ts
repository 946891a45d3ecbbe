import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisRateLimitStore } from "@/lib/ratelimit/redis-store";
import { testRedis } from "@/tests/helpers/redis";
import { alignedStart, runStoreSuite, TestClock } from "./store-suite";

const url = process.env.REDIS_URL;
// Every run writes under its own prefix, and removes it afterwards.
const prefix = `kw:test:${randomBytes(6).toString("hex")}:`;

async function dropPrefix(redis: Redis): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

if (url) {
  runStoreSuite("redis", async () => {
    const clock = new TestClock(alignedStart());
    const store = new RedisRateLimitStore({ url, prefix, now: clock.now });
    return {
      store,
      clock,
      newKey: async () => `k:${randomUUID()}`,
      async close() {
        await dropPrefix(store.redis);
        await store.close();
      },
    };
  });
}

describe.skipIf(!url)("redis store specifics", () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(url as string);
  });
  afterAll(async () => {
    await dropPrefix(admin);
    await admin.quit();
  });

  it("one round trip per hit, and EVAL when the server has lost the script", async () => {
    // On a redis-server of its own: the script cache is the server's, shared by every client, so
    // on the shared Redis a test file running beside this one could load the script again
    // between the flush and the hit (and would lose its own loaded scripts).
    const own = await testRedis();
    await own.start();
    const ownAdmin = new Redis(own.url);
    const store = new RedisRateLimitStore({ url: own.url, prefix });
    const sent: string[] = [];
    const original = store.redis.sendCommand.bind(store.redis);
    store.redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
      sent.push(cmd.name);
      return (original as (...a: unknown[]) => unknown)(cmd, ...rest);
    }) as typeof store.redis.sendCommand;
    await store.hit("rt", 10, 60_000); // may load the script
    sent.length = 0;
    await store.hit("rt", 10, 60_000);
    expect(sent).toEqual(["evalsha"]);
    await ownAdmin.script("FLUSH");
    sent.length = 0;
    const r = await store.hit("rt", 10, 60_000);
    expect(r).toMatchObject({ allowed: true, remaining: 7 });
    expect(sent).toEqual(["evalsha", "eval"]);
    await store.close();
    await ownAdmin.quit();
    await own.kill();
  });

  it("stores one hash per key that expires after two windows", async () => {
    const store = new RedisRateLimitStore({ redis: admin, prefix });
    await store.hit("ttl", 10, 1_000);
    const ttl = await admin.pttl(`${prefix}ttl`);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(3_000);
    expect(await admin.hgetall(`${prefix}ttl`)).toMatchObject({ c: "1", p: "0", w: "1000" });
    await store.close(); // a borrowed connection stays open
    expect(admin.status).toBe("ready");
  });

  it("instances sharing one Redis share one limit", async () => {
    const a = new RedisRateLimitStore({ url: url as string, prefix });
    const b = new RedisRateLimitStore({ url: url as string, prefix });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).hit("shared", 40, 60_000)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(40);
    await a.close();
    await b.close();
  });
});

describe("redis store when Redis is unreachable", () => {
  it("rejects quickly instead of hanging (the caller's fail mode decides)", async () => {
    const store = new RedisRateLimitStore({ url: "redis://127.0.0.1:1", commandTimeoutMs: 200 });
    const started = Date.now();
    await expect(store.hit("down", 10, 60_000)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
    await store.close();
  });
});
