// Spend caps end to end below HTTP: usage recorded with a cost (through the real recorder and its
// write statement) turns verify to SPEND_LIMIT_EXCEEDED, per key and per organization: at once for
// cost recorded by this instance, and within the documented lag (the counter's recount, 10 s) for
// cost another instance recorded.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db";
import { closeRateLimiter, createRateLimiter, setRateLimiter } from "@/lib/ratelimit";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { KeyCache, setKeyCache } from "@/lib/services/key-cache";
import { createKey } from "@/lib/services/keys";
import { setOrganizationSpendLimit } from "@/lib/services/org-service";
import { UsageRecorder } from "@/lib/services/usage-recorder";
import { verifyKey } from "@/lib/services/verify";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { TestClock } from "@/tests/ratelimit/store-suite";

const actor: Actor = { type: "user", id: "00000000-0000-4000-8000-000000000001" };

describe.each(testDbKinds)("spend caps (%s)", (kind) => {
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
  beforeEach(() => setKeyCache(new KeyCache()));
  afterEach(() => closeRateLimiter());

  async function setup() {
    n++;
    const o = await organizationRepository.create(db, {
      name: `Spend ${n} ${Date.now()}`,
      email: `spend${n}-${Date.now()}@example.test`,
      plan: "PRO",
    });
    const capped = await createKey(
      db,
      { organizationId: o.id, name: "capped", environment: "live", spendLimitUsd: "1.00" },
      actor,
    );
    const free = await createKey(
      db,
      { organizationId: o.id, name: "free", environment: "live" },
      actor,
    );
    return { orgId: o.id, capped, free };
  }

  const event = (apiKeyId: string, organizationId: string, costUsd: string) => ({
    apiKeyId,
    organizationId,
    endpoint: "/v1/chat",
    method: "POST",
    statusCode: 200,
    responseTimeMs: 5,
    costUsd,
  });

  it("refuses a key at its cap and its organization at the organization's, at once for this instance", async () => {
    const clock = new TestClock(Date.now());
    const limiter = createRateLimiter({ kind: "postgres", db, now: clock.now });
    setRateLimiter(limiter);
    const recorder = new UsageRecorder({
      db,
      flushIntervalMs: 0,
      onRecord: (r) => limiter.spend.add(r.organizationId, r.apiKeyId, r.costUsd),
    });
    try {
      const { orgId, capped, free } = await setup();
      expect((await verifyKey(db, { key: capped.key })).code).toBe("VALID");
      recorder.record(event(capped.apiKey.id, orgId, "0.600000"));
      expect((await verifyKey(db, { key: capped.key })).code).toBe("VALID");
      recorder.record(event(capped.apiKey.id, orgId, "0.400000")); // exactly at the cap
      expect((await verifyKey(db, { key: capped.key })).code).toBe("SPEND_LIMIT_EXCEEDED");
      expect((await verifyKey(db, { key: free.key })).code).toBe("VALID");
      await recorder.flush();

      // The organization's cap: 3.00 across its keys (1.00 spent so far).
      await setOrganizationSpendLimit(db, orgId, "3", actor, "OWNER");
      setKeyCache(new KeyCache());
      recorder.record(event(free.apiKey.id, orgId, "1.999999"));
      expect((await verifyKey(db, { key: free.key })).code).toBe("VALID");
      recorder.record(event(free.apiKey.id, orgId, "0.000001"));
      const refused = await verifyKey(db, { key: free.key });
      expect(refused).toMatchObject({ valid: false, code: "SPEND_LIMIT_EXCEEDED" });
      expect(refused.ratelimit).toBeNull(); // refused before the rate limit: nothing spent

      // A new month starts afresh.
      await recorder.flush();
      const d = new Date(clock.now());
      clock.set(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 0, 0, 1));
      expect((await verifyKey(db, { key: free.key })).code).toBe("VALID");
    } finally {
      await recorder.close();
    }
  });

  it("sees cost another instance recorded within the recount interval", async () => {
    const clock = new TestClock(Date.now());
    const limiter = createRateLimiter({ kind: "postgres", db, now: clock.now });
    setRateLimiter(limiter);
    // The other instance: its own recorder writing to the same database, not telling this one.
    const elsewhere = new UsageRecorder({ db, flushIntervalMs: 0 });
    try {
      const { orgId, capped } = await setup();
      expect((await verifyKey(db, { key: capped.key })).code).toBe("VALID");
      elsewhere.record(event(capped.apiKey.id, orgId, "1.50"));
      await elsewhere.flush();
      // Within the lag this instance has not recounted yet...
      expect((await verifyKey(db, { key: capped.key })).code).toBe("VALID");
      // ...and after the recount interval (10 s) it has.
      clock.advance(10_000);
      expect((await verifyKey(db, { key: capped.key })).code).toBe("SPEND_LIMIT_EXCEEDED");
    } finally {
      await elsewhere.close();
    }
  });

  it("lets only owners set the organization's cap, and checks it", async () => {
    const { orgId } = await setup();
    await expect(setOrganizationSpendLimit(db, orgId, "5", actor, "ADMIN")).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    for (const bad of ["0", "-1", "abc", "1.1234567", "2000000"]) {
      await expect(setOrganizationSpendLimit(db, orgId, bad, actor, "OWNER")).rejects.toMatchObject(
        { code: "VALIDATION_FAILED" },
      );
    }
    const o = await setOrganizationSpendLimit(db, orgId, "12.5", actor, "OWNER");
    expect(o.spendLimitUsd?.toString()).toBe("12.5");
    expect((await setOrganizationSpendLimit(db, orgId, null, actor, "OWNER")).spendLimitUsd).toBe(
      null,
    );
  });
});
