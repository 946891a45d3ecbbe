import { describe, expect, it } from "vitest";
import { PostgresRateLimitStore } from "@/lib/ratelimit/postgres-store";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { createApiKeyRow, createOrganization } from "./fixtures";
import { alignedStart, runStoreSuite, TestClock } from "./store-suite";

for (const kind of testDbKinds) {
  runStoreSuite(`postgres (${kind})`, async () => {
    const db = await createTestDatabase(kind);
    const orgId = await createOrganization(db.prisma);
    const clock = new TestClock(alignedStart());
    const store = new PostgresRateLimitStore({ db: db.prisma, now: clock.now });
    return {
      store,
      clock,
      newKey: () => createApiKeyRow(db.prisma, orgId),
      async close() {
        await store.close();
        await db.close();
      },
    };
  });
}

describe.each(testDbKinds)("postgres store specifics (%s)", (kind) => {
  const W = 60_000;
  const withDb = async (fn: (db: TestDatabase, orgId: string) => Promise<void>) => {
    const db = await createTestDatabase(kind);
    try {
      await fn(db, await createOrganization(db.prisma));
    } finally {
      await db.close();
    }
  };

  it("keeps one row per key and window, and cleanup deletes windows no longer needed", () =>
    withDb(async (db, orgId) => {
      const clock = new TestClock(alignedStart());
      const store = new PostgresRateLimitStore({ db: db.prisma, now: clock.now });
      const id = await createApiKeyRow(db.prisma, orgId);
      for (let i = 0; i < 5; i++) await store.hit(id, 10, W);
      clock.advance(W);
      await store.hit(id, 10, W);
      const rows = await db.prisma.rateLimitTracking.findMany({ orderBy: { windowStart: "asc" } });
      expect(rows.map((r) => r.requestCount)).toEqual([5, 1]);
      expect(rows[0].windowStart.getTime()).toBe(clock.t - W);
      expect(rows[0].windowEnd.getTime()).toBe(clock.t);
      expect(await store.cleanup()).toBe(0); // the previous window still counts
      clock.advance(W);
      expect(await store.cleanup()).toBe(1);
      expect(await db.prisma.rateLimitTracking.count()).toBe(1);
      await store.close();
    }));

  it("keeps keys that are not API key ids (addresses, e-mails) in the table too", () =>
    withDb(async (db) => {
      const clock = new TestClock(alignedStart());
      const store = new PostgresRateLimitStore({ db: db.prisma, now: clock.now });
      for (let i = 0; i < 3; i++) expect((await store.hit("ip:10.0.0.1", 3, W)).allowed).toBe(true);
      expect((await store.hit("ip:10.0.0.1", 3, W)).allowed).toBe(false);
      const rows = await db.prisma.rateLimitTracking.findMany();
      expect(rows.map((r) => [r.key, r.requestCount])).toEqual([["ip:10.0.0.1", 3]]);
      await store.reset("ip:10.0.0.1");
      expect(await db.prisma.rateLimitTracking.count()).toBe(0);
      expect((await store.hit("ip:10.0.0.1", 3, W)).allowed).toBe(true);
      await store.close();
    }));

  it("limits in process the keys a tableKey mapping sends there", () =>
    withDb(async (db) => {
      const store = new PostgresRateLimitStore({ db: db.prisma, tableKey: () => null });
      expect((await store.hit("signin:a@b.c", 1, W)).allowed).toBe(true);
      expect((await store.hit("signin:a@b.c", 1, W)).allowed).toBe(false);
      expect(await db.prisma.rateLimitTracking.count()).toBe(0);
      await store.close();
    }));

  it("accepts a lazy database getter", () =>
    withDb(async (db, orgId) => {
      const store = new PostgresRateLimitStore({ db: async () => db.prisma });
      const id = await createApiKeyRow(db.prisma, orgId);
      expect((await store.hit(id, 1, W)).allowed).toBe(true);
      expect((await store.hit(id, 1, W)).allowed).toBe(false);
      await store.close();
    }));
});
