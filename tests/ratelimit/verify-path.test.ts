// verifyKey's last two steps with its default collaborators: the process's limiter does the
// key's rate limit and then the organization's quota (on Redis in one round trip).
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Db } from "@/lib/db";
import {
  closeRateLimiter,
  createRateLimiter,
  type RateLimiter,
  setRateLimiter,
} from "@/lib/ratelimit";
import type { RedisRateLimitStore } from "@/lib/ratelimit/redis-store";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { KeyCache, setKeyCache } from "@/lib/services/key-cache";
import { createKey } from "@/lib/services/keys";
import { verifyKey } from "@/lib/services/verify";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";

const actor: Actor = { type: "user", id: "00000000-0000-4000-8000-000000000001" };
const url = process.env.REDIS_URL;
const prefix = `kw:test:${randomBytes(6).toString("hex")}:`;

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

describe.each(testDbKinds)("verify: rate limit, then quota, through the limiter (%s)", (kind) => {
  let t: TestDatabase;
  let db: Db;
  let n = 0;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    db = t.prisma;
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    setKeyCache(new KeyCache());
  });
  afterEach(() => closeRateLimiter());

  /** An organization with a monthly quota, and two keys: one limited to 3 per minute. */
  async function setup(monthlyQuota: number) {
    n++;
    const o = await organizationRepository.create(db, {
      name: `Verify ${n} ${Date.now()}`,
      email: `verify${n}-${Date.now()}@example.test`,
      monthlyQuota,
    });
    const limited = await createKey(
      db,
      { organizationId: o.id, name: "a", environment: "live", rateLimitPerMinute: 3 },
      actor,
    );
    const other = await createKey(
      db,
      { organizationId: o.id, name: "b", environment: "live" },
      actor,
    );
    return { orgId: o.id, limited: limited.key, other: other.key };
  }

  async function checkRules(limiter: RateLimiter, each?: (code: string) => void) {
    setRateLimiter(limiter);
    const { orgId, limited, other } = await setup(5);
    const codes = [];
    for (let i = 0; i < 5; i++) {
      const out = await verifyKey(db, { key: limited });
      codes.push(out.code);
      each?.(out.code);
    }
    expect(codes).toEqual(["VALID", "VALID", "VALID", "RATE_LIMITED", "RATE_LIMITED"]);
    // Rate-limited requests spent no quota.
    expect((await limiter.quota.peek(orgId, 5)).used).toBe(3);
    const last = [];
    for (let i = 0; i < 3; i++) {
      const out = await verifyKey(db, { key: other });
      last.push(out);
      each?.(out.code);
    }
    expect(last.map((o) => o.code)).toEqual(["VALID", "VALID", "QUOTA_EXCEEDED"]);
    const now = new Date();
    expect(last[2].quotaResetAt).toBe(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    // The refused request counted against the key's rate limit, as before.
    expect(last[2].ratelimit).toMatchObject({
      allowed: true,
      remaining: last[1].ratelimit!.remaining - 1,
    });
    expect((await limiter.quota.peek(orgId, 5)).used).toBe(5);
  }

  it("in process (memory store and quota)", async () => {
    await checkRules(createRateLimiter({ kind: "memory", quota: "memory" }));
  });

  it("on PostgreSQL (the table store, the quota counted from usage)", async () => {
    await checkRules(createRateLimiter({ kind: "postgres", db }));
  });

  it.skipIf(!url)("on Redis, in one round trip per verify", async () => {
    // The rules, not the fail-open path (tested in policies.test.ts): on a loaded machine an
    // EVALSHA can outlast the 100 ms default and be answered by the local fallback instead.
    vi.stubEnv("REDIS_COMMAND_TIMEOUT_MS", "30000");
    const limiter = createRateLimiter({ kind: "redis", url, prefix });
    const redis = (limiter.store as RedisRateLimitStore).redis;
    await redis.script("LOAD", "return 1"); // the connection is up before counting
    const sent = spy(redis);
    let verifies = 0;
    await checkRules(limiter, () => {
      verifies++;
    });
    // Each verify sent one script (EVAL too, at most once, if the script was not loaded yet);
    // the two peeks of the quota are the only other commands.
    const evalshas = sent.filter((c) => c === "evalsha").length;
    expect(evalshas).toBe(verifies + 2);
    expect(sent.filter((c) => c !== "evalsha" && c !== "eval")).toEqual([]);
    expect(sent.filter((c) => c === "eval").length).toBeLessThanOrEqual(2);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    vi.unstubAllEnvs();
  });
});
