// The key service on a real database: PGlite always, PostgreSQL when DATABASE_URL is set.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db";
import { isKeywardError } from "@/lib/errors";
import { generateKey, hashKey } from "@/lib/keys";
import { closeRateLimiter, createRateLimiter, setRateLimiter } from "@/lib/ratelimit";
import { POLICIES } from "@/lib/ratelimit/policies";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { type Actor, systemActor } from "@/lib/services/actor";
import { KeyCache, setKeyCache } from "@/lib/services/key-cache";
import {
  createKey,
  getKey,
  listKeys,
  revokeKey,
  revokeKeyById,
  rotateKey,
  updateKey,
} from "@/lib/services/keys";
import { toVerifyResult, verifyKey } from "@/lib/services/verify";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";

const actor: Actor = { type: "user", id: "00000000-0000-4000-8000-000000000001", ip: "10.0.0.1" };

/** Unix ms of the next month's start (UTC): when a monthly quota resets. */
function startOfNextMonthUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function expectError(p: Promise<unknown>, code: string, path?: string) {
  try {
    await p;
  } catch (e) {
    expect(isKeywardError(e)).toBe(true);
    if (!isKeywardError(e)) throw e;
    expect(e.code).toBe(code);
    if (path) expect(e.issues?.map((i) => i.path)).toContain(path);
    return e;
  }
  throw new Error(`expected ${code}, got success`);
}

let n = 0;
async function org(
  db: Db,
  extra: Partial<Parameters<typeof organizationRepository.create>[1]> = {},
) {
  n++;
  return organizationRepository.create(db, {
    name: `Org ${n} ${Date.now()}`,
    email: `org${n}-${Date.now()}@example.test`,
    ...extra,
  });
}

describe.each(testDbKinds)("api key service on %s", (kind) => {
  let t: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    db = t.prisma;
  });
  afterAll(async () => {
    await closeRateLimiter();
    await t?.close();
  });
  beforeEach(() => {
    setKeyCache(new KeyCache());
    // A fresh in-process limiter per test: counters start at zero, the quota counted in memory.
    setRateLimiter(createRateLimiter({ kind: "memory", quota: "memory" }));
  });

  describe("createKey", () => {
    it("returns the plaintext once and stores only its hash, with an audit row", async () => {
      const o = await org(db);
      const { key, apiKey } = await createKey(
        db,
        { organizationId: o.id, name: " svc ", environment: "live", scopes: ["keys:read"] },
        actor,
      );
      expect(key).toMatch(/^pk_live_[A-Za-z0-9_-]{43}$/);
      expect(apiKey).toMatchObject({
        name: "svc",
        environment: "live",
        status: "active",
        scopes: ["keys:read"],
        prefix: "pk_live_",
        hint: key.slice(-4),
        rateLimitPerMinute: null,
        expiresAt: null,
      });
      expect(apiKey).not.toHaveProperty("keyHash");
      const row = await db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      expect(row.keyHash).toBe(hashKey(key));
      expect(JSON.stringify({ ...row, requestCount: 0 })).not.toContain(key.slice(8));
      const audit = await db.auditLog.findMany({ where: { targetId: apiKey.id } });
      expect(audit.map((a) => a.action)).toEqual(["key.created"]);
      expect(audit[0]).toMatchObject({
        actorType: "user",
        actorId: actor.id,
        ipAddress: "10.0.0.1",
      });
      expect(JSON.stringify(audit)).not.toContain(key.slice(8));
    });

    it("makes test keys", async () => {
      const o = await org(db);
      const { key, apiKey } = await createKey(
        db,
        { organizationId: o.id, name: "t", environment: "test" },
        actor,
      );
      expect(key.startsWith("pk_test_")).toBe(true);
      expect(apiKey.environment).toBe("test");
    });

    it("enforces the organization's active key limit (revoked and expired keys do not count)", async () => {
      const o = await org(db, { maxActiveKeys: 2 });
      const a = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      await createKey(db, { organizationId: o.id, name: "b", environment: "test" }, actor);
      await expectError(
        createKey(db, { organizationId: o.id, name: "c", environment: "live" }, actor),
        "KEY_LIMIT_REACHED",
      );
      await revokeKey(db, o.id, a.apiKey.id, { reason: "room" }, actor);
      await createKey(db, { organizationId: o.id, name: "c", environment: "live" }, actor);
    });

    it("refuses keys for an inactive or missing organization", async () => {
      const o = await org(db, { isActive: false });
      await expectError(
        createKey(db, { organizationId: o.id, name: "a", environment: "live" }, actor),
        "ORG_INACTIVE",
      );
      await expectError(
        createKey(
          db,
          {
            organizationId: "6b1c1d4e-0000-4000-8000-000000000000",
            name: "a",
            environment: "live",
          },
          actor,
        ),
        "NOT_FOUND",
      );
    });

    it("validates name, scopes, expiry and limit with field paths", async () => {
      const o = await org(db);
      const base = { organizationId: o.id, name: "a", environment: "live" as const };
      await expectError(createKey(db, { ...base, name: "  " }, actor), "VALIDATION_FAILED", "name");
      await expectError(
        createKey(db, { ...base, scopes: ["keys:read", "Bad Scope"] }, actor),
        "VALIDATION_FAILED",
        "scopes.1",
      );
      await expectError(
        createKey(db, { ...base, scopes: ["a:b", "a:b"] }, actor),
        "VALIDATION_FAILED",
        "scopes",
      );
      await expectError(
        createKey(db, { ...base, expiresAt: new Date(Date.now() - 1000) }, actor),
        "VALIDATION_FAILED",
        "expiresAt",
      );
      await expectError(
        createKey(db, { ...base, rateLimitPerMinute: 0 }, actor),
        "VALIDATION_FAILED",
        "rateLimitPerMinute",
      );
      await expectError(
        createKey(db, { ...base, environment: "prod" as "live" }, actor),
        "VALIDATION_FAILED",
        "environment",
      );
      // One vocabulary: the database's spelling stays below the repository.
      await expectError(
        createKey(db, { ...base, environment: "TEST" as "test" }, actor),
        "VALIDATION_FAILED",
        "environment",
      );
    });
  });

  describe("verifyKey", () => {
    it("answers VALID with the key's data and rate limit state", async () => {
      const o = await org(db);
      const { key, apiKey } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", scopes: ["usage:read", "x:y"] },
        actor,
      );
      const out = await verifyKey(db, { key, scopes: ["usage:read"] });
      expect(out.code).toBe("VALID");
      expect(toVerifyResult(out)).toMatchObject({
        valid: true,
        code: "VALID",
        keyId: apiKey.id,
        organizationId: o.id,
        environment: "live",
        scopes: ["usage:read", "x:y"],
        expiresAt: null,
        ratelimit: { limit: 60, remaining: 59 },
      });
    });

    it("answers INVALID_FORMAT before any lookup and NOT_FOUND for an unknown key", async () => {
      expect((await verifyKey(db, { key: "nope" })).code).toBe("INVALID_FORMAT");
      expect((await verifyKey(db, { key: `pk_live_${"A".repeat(42)}` })).code).toBe(
        "INVALID_FORMAT",
      );
      // Well-formed with a valid checksum, never issued (an invented one is INVALID_FORMAT now).
      const unknown = generateKey("live").key;
      expect(
        (
          await verifyKey(db, {
            key: `${unknown.slice(0, -1)}${unknown.endsWith("A") ? "E" : "A"}`,
          })
        ).code,
      ).toBe("INVALID_FORMAT");
      const out = await verifyKey(db, { key: unknown });
      expect(out.code).toBe("NOT_FOUND");
      expect(toVerifyResult(out)).toEqual({
        valid: false,
        code: "NOT_FOUND",
        keyId: null,
        organizationId: null,
        environment: null,
        scopes: [],
        expiresAt: null,
        ratelimit: null,
        credits: null,
        externalId: null,
        meta: null,
      });
    });

    it("answers REVOKED at once after a revoke, even with the key cached", async () => {
      const o = await org(db);
      const { key, apiKey } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      expect((await verifyKey(db, { key })).code).toBe("VALID");
      await revokeKey(db, o.id, apiKey.id, { reason: "leaked" }, actor);
      expect((await verifyKey(db, { key })).code).toBe("REVOKED");
    });

    it("answers EXPIRED once the expiry has passed", async () => {
      const o = await org(db);
      const { key } = await createKey(
        db,
        {
          organizationId: o.id,
          name: "a",
          environment: "live",
          expiresAt: new Date(Date.now() + 1_000),
        },
        actor,
      );
      expect((await verifyKey(db, { key })).code).toBe("VALID");
      await sleep(1_050); // the cached key expires on time too
      expect((await verifyKey(db, { key })).code).toBe("EXPIRED");
    });

    it("answers INSUFFICIENT_SCOPE when any required scope is missing", async () => {
      const o = await org(db);
      const { key } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", scopes: ["keys:read"] },
        actor,
      );
      expect((await verifyKey(db, { key, scopes: ["keys:read", "keys:write"] })).code).toBe(
        "INSUFFICIENT_SCOPE",
      );
    });

    it("answers ORG_INACTIVE for a deactivated organization (within the cache TTL)", async () => {
      const o = await org(db);
      const { key } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      await organizationRepository.update(db, o.id, { isActive: false });
      setKeyCache(new KeyCache({ ttlMs: 0 }));
      expect((await verifyKey(db, { key })).code).toBe("ORG_INACTIVE");
    });

    it("answers RATE_LIMITED past the key's own limit, and other keys are unaffected", async () => {
      const o = await org(db);
      const { key } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", rateLimitPerMinute: 2 },
        actor,
      );
      const other = await createKey(
        db,
        { organizationId: o.id, name: "b", environment: "live" },
        actor,
      );
      expect((await verifyKey(db, { key })).code).toBe("VALID");
      expect((await verifyKey(db, { key })).code).toBe("VALID");
      const out = await verifyKey(db, { key });
      expect(out.code).toBe("RATE_LIMITED");
      expect(out.ratelimit).toMatchObject({ allowed: false, limit: 2, remaining: 0 });
      expect(out.ratelimit!.retryAfterMs).toBeGreaterThan(0);
      expect((await verifyKey(db, { key: other.key })).code).toBe("VALID");
    });

    it("answers QUOTA_EXCEEDED when the organization's month is used up", async () => {
      const o = await org(db, { monthlyQuota: 1 });
      const { key } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      expect((await verifyKey(db, { key })).code).toBe("VALID");
      const out = await verifyKey(db, { key });
      expect(out.code).toBe("QUOTA_EXCEEDED");
      expect(out.quotaResetAt).toBe(startOfNextMonthUtc(Date.now()));
    });

    it("checks status before scopes and scopes before the rate limit", async () => {
      const o = await org(db);
      const { key, apiKey } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", rateLimitPerMinute: 1 },
        actor,
      );
      for (let i = 0; i < 3; i++) {
        expect((await verifyKey(db, { key, scopes: ["keys:write"] })).code).toBe(
          "INSUFFICIENT_SCOPE",
        );
      }
      // The refusals spent nothing of the key's one request per minute.
      expect((await verifyKey(db, { key })).code).toBe("VALID");
      expect((await verifyKey(db, { key })).code).toBe("RATE_LIMITED");
      await revokeKey(db, o.id, apiKey.id, {}, actor);
      expect((await verifyKey(db, { key, scopes: ["keys:write"] })).code).toBe("REVOKED");
    });

    it("rate limits failed attempts per address, never valid keys", async () => {
      const o = await org(db);
      const { key } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      const budget = POLICIES.verifyFailuresPerAddress.limit;
      const unknown = (_i: number) => generateKey("live").key;
      for (let i = 0; i < budget; i++) {
        const out = await verifyKey(db, { key: unknown(i), ip: "1.2.3.4" });
        expect(out.code).toBe("NOT_FOUND");
        expect(out.addressLimit?.allowed).toBe(true);
      }
      const blocked = await verifyKey(db, { key: unknown(budget), ip: "1.2.3.4" });
      expect(blocked.addressLimit?.allowed).toBe(false);
      // a valid key from the same address still verifies, and does not spend the address budget
      for (let i = 0; i < 5; i++) {
        const ok = await verifyKey(db, { key, ip: "1.2.3.4" });
        expect(ok.code).toBe("VALID");
        expect(ok.addressLimit).toBeUndefined();
      }
      expect((await verifyKey(db, { key: "bad", ip: "5.6.7.8" })).addressLimit?.allowed).toBe(true);
    });

    it("fails open when the limiter's store fails: the in-process limit answers", async () => {
      const o = await org(db);
      const { key } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", rateLimitPerMinute: 2 },
        actor,
      );
      // A real store whose database is gone: every query it makes fails.
      const gone = await createTestDatabase(kind);
      await gone.close();
      setRateLimiter(createRateLimiter({ kind: "postgres", db: gone.prisma }));
      const out = await verifyKey(db, { key });
      expect(out.code).toBe("VALID");
      expect(out.ratelimit).toMatchObject({ allowed: true, degraded: "local" });
      expect((await verifyKey(db, { key })).code).toBe("VALID");
      // Looser by at most the number of instances, never gone: the key's own limit still holds.
      expect((await verifyKey(db, { key })).code).toBe("RATE_LIMITED");
    });
  });

  describe("rotateKey", () => {
    it("mints a successor copying name, scopes, environment and limit; the old key works until the grace period ends", async () => {
      const o = await org(db);
      const old = await createKey(
        db,
        {
          organizationId: o.id,
          name: "svc",
          environment: "test",
          scopes: ["keys:read"],
          rateLimitPerMinute: 7,
        },
        actor,
      );
      const r = await rotateKey(db, o.id, old.apiKey.id, { gracePeriod: "1h" }, actor);
      expect(r.key).toMatch(/^pk_test_/);
      expect(r.key).not.toBe(old.key);
      expect(r.apiKey).toMatchObject({
        name: "svc",
        environment: "test",
        scopes: ["keys:read"],
        rateLimitPerMinute: 7,
        status: "active",
      });
      expect(r.previousKey.rotatedToId).toBe(r.apiKey.id);
      const grace = new Date(r.previousKey.expiresAt!).getTime() - Date.now();
      expect(grace).toBeGreaterThan(3_590_000);
      expect(grace).toBeLessThanOrEqual(3_600_000);
      expect((await verifyKey(db, { key: old.key })).code).toBe("VALID");
      expect((await verifyKey(db, { key: r.key })).code).toBe("VALID");
      // The grace period over: the old key's expiry moved into the past, its cached entry dropped.
      await db.apiKey.update({
        where: { id: old.apiKey.id },
        data: { expiresAt: new Date(Date.now() - 1_000) },
      });
      setKeyCache(new KeyCache());
      expect((await verifyKey(db, { key: old.key })).code).toBe("EXPIRED");
      expect((await verifyKey(db, { key: r.key })).code).toBe("VALID");
      const audit = await db.auditLog.findMany({
        where: { organizationId: o.id, action: "key.rotated" },
      });
      expect(audit).toHaveLength(1);
      expect(JSON.stringify(audit)).not.toContain(r.key.slice(8));
    });

    it("with no grace period the old key stops at once", async () => {
      const o = await org(db);
      const old = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      expect((await verifyKey(db, { key: old.key })).code).toBe("VALID");
      const r = await rotateKey(db, o.id, old.apiKey.id, { gracePeriod: "none" }, actor);
      expect(r.previousKey.status).toBe("revoked");
      expect((await verifyKey(db, { key: old.key })).code).toBe("REVOKED");
    });

    it("caps the grace period at the old key's own expiry", async () => {
      const o = await org(db);
      const expiresAt = new Date(Date.now() + 120_000);
      const old = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", expiresAt },
        actor,
      );
      const r = await rotateKey(db, o.id, old.apiKey.id, { gracePeriod: "7d" }, actor);
      expect(new Date(r.previousKey.expiresAt!).getTime()).toBe(expiresAt.getTime());
    });

    it("refuses a second rotation of the same key, and revoked keys", async () => {
      const o = await org(db);
      const old = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      await rotateKey(db, o.id, old.apiKey.id, {}, actor);
      await expectError(rotateKey(db, o.id, old.apiKey.id, {}, actor), "CONFLICT");
      const other = await createKey(
        db,
        { organizationId: o.id, name: "b", environment: "live" },
        actor,
      );
      await revokeKey(db, o.id, other.apiKey.id, {}, actor);
      await expectError(rotateKey(db, o.id, other.apiKey.id, {}, actor), "CONFLICT");
    });

    it("two concurrent rotations mint exactly one successor", async () => {
      const o = await org(db, { maxActiveKeys: 50 });
      const old = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      const results = await Promise.allSettled([
        rotateKey(db, o.id, old.apiKey.id, {}, actor),
        rotateKey(db, o.id, old.apiKey.id, {}, actor),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(await db.apiKey.count({ where: { organizationId: o.id } })).toBe(2);
    });

    it("refuses grace periods outside the list", async () => {
      const o = await org(db);
      const old = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      await expectError(
        rotateKey(db, o.id, old.apiKey.id, { gracePeriod: "2h" as "1h" }, actor),
        "VALIDATION_FAILED",
        "gracePeriod",
      );
    });
  });

  describe("updateKey, revokeKey, getKey, listKeys across organizations", () => {
    it("updates name, scopes, expiry and limit (null = the plan's) with one audit row", async () => {
      const o = await org(db);
      const { key, apiKey } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", rateLimitPerMinute: 5 },
        actor,
      );
      expect((await verifyKey(db, { key })).ratelimit?.limit).toBe(5);
      const expiresAt = new Date(Date.now() + 86_400_000);
      const u = await updateKey(
        db,
        o.id,
        apiKey.id,
        { name: "b", scopes: ["usage:read"], expiresAt, rateLimitPerMinute: null },
        actor,
      );
      expect(u).toMatchObject({
        name: "b",
        scopes: ["usage:read"],
        rateLimitPerMinute: null,
        expiresAt: expiresAt.toISOString(),
      });
      // the cached entry was dropped: the new limit applies at once
      expect((await verifyKey(db, { key })).ratelimit?.limit).toBe(60);
      const audit = await db.auditLog.findMany({
        where: { targetId: apiKey.id, action: "key.updated" },
      });
      expect(audit).toHaveLength(1);
      expect(Object.keys((audit[0]!.metadata as { changes: object }).changes).sort()).toEqual([
        "expiresAt",
        "name",
        "rateLimitPerMinute",
        "scopes",
      ]);
      // no change, no audit row
      await updateKey(db, o.id, apiKey.id, { name: "b" }, actor);
      expect(
        await db.auditLog.count({ where: { targetId: apiKey.id, action: "key.updated" } }),
      ).toBe(1);
    });

    it("a revoked key cannot be changed; revoking twice keeps the first revocation", async () => {
      const o = await org(db);
      const { apiKey } = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live" },
        actor,
      );
      const r1 = await revokeKey(db, o.id, apiKey.id, { reason: "first" }, actor);
      const r2 = await revokeKey(db, o.id, apiKey.id, { reason: "second" }, systemActor);
      expect(r1.revokedReason).toBe("first");
      expect(r2.revokedReason).toBe("first");
      expect(
        await db.auditLog.count({ where: { targetId: apiKey.id, action: "key.revoked" } }),
      ).toBe(1);
      await expectError(updateKey(db, o.id, apiKey.id, { name: "x" }, actor), "CONFLICT");
    });

    it("another organization's key is NOT_FOUND, exactly like a missing one", async () => {
      const a = await org(db);
      const b = await org(db);
      const { apiKey } = await createKey(
        db,
        { organizationId: a.id, name: "a", environment: "live" },
        actor,
      );
      const missing = "0b7f3c1e-1111-4111-8111-111111111111";
      for (const id of [apiKey.id, missing]) {
        const errs = await Promise.all([
          expectError(getKey(db, b.id, id), "NOT_FOUND"),
          expectError(updateKey(db, b.id, id, { name: "x" }, actor), "NOT_FOUND"),
          expectError(revokeKey(db, b.id, id, {}, actor), "NOT_FOUND"),
          expectError(rotateKey(db, b.id, id, {}, actor), "NOT_FOUND"),
        ]);
        expect(errs.map((e) => e.message)).toEqual(errs.map(() => "The key does not exist."));
      }
      expect((await getKey(db, a.id, apiKey.id)).status).toBe("active");
      await expectError(getKey(db, a.id, "not-a-uuid"), "NOT_FOUND");
    });

    it("test keys see only test keys", async () => {
      const o = await org(db);
      const live = await createKey(
        db,
        { organizationId: o.id, name: "l", environment: "live" },
        actor,
      );
      const test = await createKey(
        db,
        { organizationId: o.id, name: "t", environment: "test" },
        actor,
      );
      const v = { environment: "test" as const };
      await expectError(getKey(db, o.id, live.apiKey.id, v), "NOT_FOUND");
      await expectError(revokeKey(db, o.id, live.apiKey.id, {}, actor, v), "NOT_FOUND");
      expect((await getKey(db, o.id, test.apiKey.id, v)).id).toBe(test.apiKey.id);
      const page = await listKeys(db, o.id, {}, v);
      expect(page.items.map((k) => k.id)).toEqual([test.apiKey.id]);
      expect((await listKeys(db, o.id, { environment: "live" }, v)).items).toEqual([]);
    });

    it("lists newest first with filters and cursor pagination", async () => {
      const o = await org(db, { maxActiveKeys: 50 });
      const made = [];
      for (let i = 0; i < 5; i++) {
        made.push(
          await createKey(
            db,
            { organizationId: o.id, name: `k${i}`, environment: i % 2 ? "test" : "live" },
            actor,
          ),
        );
      }
      await revokeKey(db, o.id, made[0]!.apiKey.id, {}, actor);
      const p1 = await listKeys(db, o.id, { limit: 2 });
      expect(p1.items.map((k) => k.name)).toEqual(["k4", "k3"]);
      const p2 = await listKeys(db, o.id, { limit: 2, cursor: p1.nextCursor });
      expect(p2.items.map((k) => k.name)).toEqual(["k2", "k1"]);
      const p3 = await listKeys(db, o.id, { limit: 2, cursor: p2.nextCursor });
      expect(p3.items.map((k) => k.name)).toEqual(["k0"]);
      expect(p3.nextCursor).toBeNull();
      expect((await listKeys(db, o.id, { status: "revoked" })).items.map((k) => k.name)).toEqual([
        "k0",
      ]);
      expect((await listKeys(db, o.id, { environment: "test" })).items.map((k) => k.name)).toEqual([
        "k3",
        "k1",
      ]);
    });

    it("revokeKeyById checks the organization slug when given", async () => {
      const a = await org(db);
      const b = await org(db);
      const { apiKey } = await createKey(
        db,
        { organizationId: a.id, name: "a", environment: "live" },
        actor,
      );
      await expectError(
        revokeKeyById(db, { keyId: apiKey.id, orgSlug: b.slug, reason: "x" }, actor),
        "NOT_FOUND",
      );
      expect(
        (await revokeKeyById(db, { keyId: apiKey.id, orgSlug: a.slug, reason: "x" }, actor)).status,
      ).toBe("revoked");
    });
  });

  describe("the privilege ceiling, the plan and the active-key limit", () => {
    const cli: Actor = { type: "cli", id: "operator" };

    it("a dashboard user's per-key limit stays within the plan's; the CLI may go past it", async () => {
      const o = await org(db); // FREE: 60 requests per minute per key
      const input = { organizationId: o.id, name: "k", environment: "live" as const };
      await expectError(
        createKey(db, { ...input, rateLimitPerMinute: 61 }, actor),
        "PRIVILEGE_CEILING",
        "rateLimitPerMinute",
      );
      const ok = await createKey(db, { ...input, rateLimitPerMinute: 60 }, actor);
      await expectError(
        updateKey(db, o.id, ok.apiKey.id, { rateLimitPerMinute: 1000 }, actor),
        "PRIVILEGE_CEILING",
        "rateLimitPerMinute",
      );
      const fast = await createKey(db, { ...input, rateLimitPerMinute: 250_000 }, cli);
      expect(fast.apiKey.rateLimitPerMinute).toBe(250_000);
      // The operator's limit stays when an admin edits the key and sends the limit back as it is.
      const renamed = await updateKey(
        db,
        o.id,
        fast.apiKey.id,
        { name: "renamed", rateLimitPerMinute: 250_000 },
        actor,
      );
      expect(renamed).toMatchObject({ name: "renamed", rateLimitPerMinute: 250_000 });
      await expectError(
        updateKey(db, o.id, fast.apiKey.id, { rateLimitPerMinute: 250_001 }, actor),
        "PRIVILEGE_CEILING",
        "rateLimitPerMinute",
      );
    });

    it("rotation keeps the source's expiry and takes a slot while the source is in its grace period", async () => {
      const o = await org(db, { maxActiveKeys: 2 });
      const expiresAt = new Date(Date.now() + 5 * 86_400_000);
      const a = await createKey(
        db,
        { organizationId: o.id, name: "a", environment: "live", expiresAt },
        actor,
      );
      const b = await rotateKey(db, o.id, a.apiKey.id, { gracePeriod: "24h" }, actor);
      expect(b.apiKey.expiresAt).toBe(expiresAt.toISOString());
      // a (grace) and b are both active: the plan's 2.
      await expectError(
        rotateKey(db, o.id, b.apiKey.id, { gracePeriod: "1h" }, cli),
        "KEY_LIMIT_REACHED",
      );
      await expectError(
        createKey(db, { organizationId: o.id, name: "c", environment: "live" }, cli),
        "KEY_LIMIT_REACHED",
      );
      const c = await rotateKey(db, o.id, b.apiKey.id, { gracePeriod: "none" }, actor);
      expect(c.apiKey.expiresAt).toBe(expiresAt.toISOString());
      expect(c.previousKey.status).toBe("revoked");
    });

    it("giving an expired key a new expiry takes a slot", async () => {
      const o = await org(db, { maxActiveKeys: 1 });
      const soon = new Date(Date.now() + 300);
      const old = await createKey(
        db,
        { organizationId: o.id, name: "old", environment: "live", expiresAt: soon },
        actor,
      );
      await new Promise((r) => setTimeout(r, 400));
      await createKey(db, { organizationId: o.id, name: "new", environment: "live" }, actor);
      await expectError(
        updateKey(db, o.id, old.apiKey.id, { expiresAt: null }, actor),
        "KEY_LIMIT_REACHED",
      );
      expect((await getKey(db, o.id, old.apiKey.id)).status).toBe("expired");
    });

    it("a key acting on keys is read afresh: once revoked it grants nothing", async () => {
      const o = await org(db);
      const caller = await createKey(
        db,
        { organizationId: o.id, name: "caller", environment: "live", scopes: ["keys:write"] },
        actor,
      );
      const asKey: Actor = { type: "key", id: caller.apiKey.id };
      const made = await createKey(
        db,
        { organizationId: o.id, name: "child", environment: "live", scopes: ["keys:write"] },
        asKey,
      );
      expect(made.apiKey.scopes).toEqual(["keys:write"]);
      await revokeKey(db, o.id, caller.apiKey.id, { reason: "x" }, actor);
      await expectError(
        createKey(db, { organizationId: o.id, name: "late", environment: "live" }, asKey),
        "KEY_REVOKED",
      );
      // A key of another organization is no caller here.
      const other = await org(db);
      await expectError(
        createKey(db, { organizationId: other.id, name: "x", environment: "live" }, asKey),
        "KEY_NOT_FOUND",
      );
    });
  });
});
