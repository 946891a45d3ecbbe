// The embedded default's credit store (lib/ratelimit/credits-write-behind.ts): what is written
// when, what a clean stop and a crash keep, and that one key's or one write's failure loses
// nothing of another's. The verify-path behaviour (exactly N of 2N admitted, refills once) is in
// the shared suite (credits.test.ts, "write-behind (pglite)").
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tx } from "@/lib/db";
import type { CreditPlan } from "@/lib/ratelimit/credits";
import { WriteBehindCreditStore } from "@/lib/ratelimit/credits-write-behind";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { createApiKeyRow, createOrganization } from "./fixtures";

const NOON = Date.UTC(2026, 11, 1, 12);
const now = () => NOON;
const daily: CreditPlan = { initial: 10, refill: { amount: 20, interval: "day" } };

async function row(db: Tx, keyId: string) {
  const rows = await db.$queryRaw<{ remaining: number; period: string }[]>`
    SELECT "remaining", "period" FROM "KeyCreditBalance" WHERE "apiKeyId" = ${keyId}::uuid`;
  return rows[0] ? { remaining: Number(rows[0].remaining), period: rows[0].period } : null;
}

/** The database with its raw statements counted, and writes failing while `failWrites` is set. */
function instrumented(db: Tx) {
  const state = { selects: 0, failWrites: false };
  const wrapped = {
    $queryRaw: (strings: TemplateStringsArray, ...values: unknown[]) => {
      state.selects++;
      return db.$queryRaw(strings, ...values);
    },
    $executeRaw: (strings: TemplateStringsArray, ...values: unknown[]) =>
      state.failWrites
        ? Promise.reject(new Error("connection refused (test)"))
        : db.$executeRaw(strings, ...values),
  } as unknown as Tx;
  return { db: wrapped, state };
}

for (const kind of testDbKinds) {
  describe(`write-behind credits (${kind})`, () => {
    let t: TestDatabase;
    let orgId: string;
    const newKey = () => createApiKeyRow(t.prisma, orgId);

    beforeAll(async () => {
      t = await createTestDatabase(kind);
      orgId = await createOrganization(t.prisma);
    });
    afterAll(() => t?.close());

    it("writes nothing per spend; the batch writes the balance, and a clean close the rest", async () => {
      const keyId = await newKey();
      const store = new WriteBehindCreditStore({ db: t.prisma, now, flushMs: 60_000 });
      for (let i = 0; i < 3; i++) expect((await store.spend(keyId, daily, 1)).allowed).toBe(true);
      expect(await row(t.prisma, keyId)).toBeNull();
      expect(store.pending).toBe(1);
      await store.flush();
      expect(await row(t.prisma, keyId)).toEqual({ remaining: 7, period: "d:2026-12-01" });
      expect(store.pending).toBe(0);
      expect((await store.spend(keyId, daily, 5)).remaining).toBe(2);
      await store.close();
      expect(await row(t.prisma, keyId)).toEqual({ remaining: 2, period: "d:2026-12-01" });
      // The next process starts from what was written.
      const next = new WriteBehindCreditStore({ db: t.prisma, now, flushMs: 60_000 });
      expect((await next.peek([{ keyId, plan: daily }])).get(keyId)).toBe(2);
      expect(await next.spend(keyId, daily, 3)).toEqual({ allowed: false, remaining: 2 });
      await next.close();
    });

    it("a crash loses only the spends since the last write (the documented bound)", async () => {
      const keyId = await newKey();
      const crashed = new WriteBehindCreditStore({ db: t.prisma, now, flushMs: 60_000 });
      await crashed.spend(keyId, daily, 4);
      await crashed.flush();
      await crashed.spend(keyId, daily, 2); // acknowledged, never written: the process "dies"
      const restarted = new WriteBehindCreditStore({ db: t.prisma, now, flushMs: 60_000 });
      expect((await restarted.peek([{ keyId, plan: daily }])).get(keyId)).toBe(6);
      await restarted.close();
    });

    it("the timer writes a spend within flushMs, without a call", async () => {
      const keyId = await newKey();
      const store = new WriteBehindCreditStore({ db: t.prisma, now, flushMs: 50 });
      await store.spend(keyId, daily, 1);
      await expect
        .poll(() => row(t.prisma, keyId), { timeout: 5_000 })
        .toEqual({
          remaining: 9,
          period: "d:2026-12-01",
        });
      await store.close();
    });

    it("concurrent first uses of a key read it once", async () => {
      const keyId = await newKey();
      const { db, state } = instrumented(t.prisma);
      const store = new WriteBehindCreditStore({ db, now, flushMs: 60_000 });
      const rs = await Promise.all(Array.from({ length: 50 }, () => store.spend(keyId, daily, 1)));
      expect(rs.filter((r) => r.allowed)).toHaveLength(10);
      expect(state.selects).toBe(1);
      await store.close();
    });

    it("a key deleted since its spend does not fail the batch of the others", async () => {
      const gone = await newKey();
      const kept = await newKey();
      const logs: string[] = [];
      const store = new WriteBehindCreditStore({
        db: t.prisma,
        now,
        flushMs: 60_000,
        log: (m) => logs.push(m),
      });
      await store.spend(gone, daily, 1);
      await store.spend(kept, daily, 2);
      await t.prisma.apiKey.delete({ where: { id: gone } });
      await store.flush();
      expect(logs).toEqual([]);
      expect(store.pending).toBe(0);
      expect(await row(t.prisma, kept)).toEqual({ remaining: 8, period: "d:2026-12-01" });
      expect(await row(t.prisma, gone)).toBeNull();
      await store.close();
    });

    it("a failed write keeps every balance and the next batch writes it", async () => {
      const keyId = await newKey();
      const { db, state } = instrumented(t.prisma);
      const logs: string[] = [];
      const store = new WriteBehindCreditStore({
        db,
        now,
        flushMs: 60_000,
        log: (m) => logs.push(m),
      });
      await store.spend(keyId, daily, 3);
      state.failWrites = true;
      await store.flush();
      expect(logs.join("\n")).toMatch(/writing 1 balances failed.*connection refused/);
      expect(store.pending).toBe(1);
      // Spending goes on while the database is away.
      expect((await store.spend(keyId, daily, 1)).remaining).toBe(6);
      state.failWrites = false;
      await store.flush();
      expect(store.pending).toBe(0);
      expect(await row(t.prisma, keyId)).toEqual({ remaining: 6, period: "d:2026-12-01" });
      await store.close();
    });

    it("set() lands after a batch taken before it; forget() deletes the row", async () => {
      const keyId = await newKey();
      const store = new WriteBehindCreditStore({ db: t.prisma, now, flushMs: 60_000 });
      await store.spend(keyId, daily, 1);
      const batch = store.flush(); // takes the balance 9
      const set = store.set(keyId, daily, 42);
      await Promise.all([batch, set]);
      expect(await row(t.prisma, keyId)).toEqual({ remaining: 42, period: "d:2026-12-01" });
      expect((await store.peek([{ keyId, plan: daily }])).get(keyId)).toBe(42);
      await store.forget(keyId);
      expect(await row(t.prisma, keyId)).toBeNull();
      // A forgotten balance starts again from the plan's starting balance.
      expect((await store.spend(keyId, daily, 1)).remaining).toBe(9);
      await store.close();
      expect(await row(t.prisma, keyId)).toEqual({ remaining: 9, period: "d:2026-12-01" });
    });
  });
}
