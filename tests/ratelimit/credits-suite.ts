// The suite every credit store passes through the verify path's last step (limitKeyRequest):
// memory, PostgreSQL (PGlite and a server), and Redis (the combined one-round-trip script).
// Time is a controllable clock; "instances" are separate limiter objects on one backend.
import { afterAll, describe, expect, it } from "vitest";
import type { CreditPlan } from "@/lib/ratelimit/credits";
import type { RateLimiter } from "@/lib/ratelimit/index";
import { limitKeyRequest } from "@/lib/ratelimit/policies";
import type { TestClock } from "./store-suite";

export const DEC_1_NOON = Date.UTC(2026, 11, 1, 12);
export const DEC_2 = Date.UTC(2026, 11, 2);

export interface CreditHarness {
  clock: TestClock;
  /** A limiter: a fresh one per call when `instances` is true (another process on the backend). */
  limiter(): RateLimiter;
  /** A key nobody else uses and its organization (real rows where the store needs them). */
  newKey(): Promise<{ keyId: string; orgId: string }>;
  /** Whether limiter() gives separate instances sharing one backend. */
  instances: boolean;
  close(): Promise<void>;
}

async function verify(
  limiter: RateLimiter,
  k: { keyId: string; orgId: string },
  plan: CreditPlan,
  cost = 1,
  monthlyQuota = 1_000_000,
) {
  return limitKeyRequest(
    {
      apiKeyId: k.keyId,
      organizationId: k.orgId,
      requestsPerMinute: 100_000,
      monthlyQuota,
      credits: { plan, cost },
    },
    { limiter },
  );
}

export function creditSuite(name: string, make: () => Promise<CreditHarness>) {
  describe(`credits: ${name}`, () => {
    let h: CreditHarness;
    afterAll(() => h?.close());

    it("200 concurrent verifies of cost 1 against 100 credits admit exactly 100", async () => {
      h = await make();
      h.clock.set(DEC_1_NOON);
      const k = await h.newKey();
      const plan: CreditPlan = { initial: 100, refill: null };
      const limiter = h.limiter();
      const rs = await Promise.all(Array.from({ length: 200 }, () => verify(limiter, k, plan)));
      expect(rs.filter((r) => r.code === "OK")).toHaveLength(100);
      expect(rs.filter((r) => r.code === "CREDITS_EXHAUSTED")).toHaveLength(100);
      const remaining = rs.flatMap((r) => (r.code === "OK" ? [r.credits?.remaining] : []));
      expect(new Set(remaining).size).toBe(100); // each admitted spend saw its own balance
      expect(Math.min(...(remaining as number[]))).toBe(0);
      // A refused request spent no quota: the organization used exactly 100 this month.
      expect((await limiter.quota.peek(k.orgId, 1_000_000)).used).toBe(100);
      const live = await limiter.credits.peek([{ keyId: k.keyId, plan }]);
      expect(live.get(k.keyId)).toBe(0);
    });

    it("spends a cost, refuses one larger than the balance without spending, and 0 only checks", async () => {
      h.clock.set(DEC_1_NOON);
      const k = await h.newKey();
      const plan: CreditPlan = { initial: 10, refill: null };
      const limiter = h.limiter();
      expect(await verify(limiter, k, plan, 7)).toMatchObject({
        code: "OK",
        credits: { remaining: 3 },
      });
      expect(await verify(limiter, k, plan, 4)).toMatchObject({
        code: "CREDITS_EXHAUSTED",
        credits: { allowed: false, remaining: 3 },
      });
      expect(await verify(limiter, k, plan, 0)).toMatchObject({
        code: "OK",
        credits: { remaining: 3 },
      });
      expect(await verify(limiter, k, plan, 3)).toMatchObject({
        code: "OK",
        credits: { remaining: 0 },
      });
      expect(await verify(limiter, k, plan, 0)).toMatchObject({
        code: "OK",
        credits: { remaining: 0 },
      });
      expect((await verify(limiter, k, plan, 1)).code).toBe("CREDITS_EXHAUSTED");
    });

    it("a request the quota refuses spends no credits", async () => {
      h.clock.set(DEC_1_NOON);
      const k = await h.newKey();
      const plan: CreditPlan = { initial: 10, refill: null };
      const limiter = h.limiter();
      expect((await verify(limiter, k, plan, 1, 1)).code).toBe("OK");
      expect((await verify(limiter, k, plan, 1, 1)).code).toBe("QUOTA_EXCEEDED");
      expect((await limiter.credits.peek([{ keyId: k.keyId, plan }])).get(k.keyId)).toBe(9);
    });

    it("set() sets the live balance; a new period refills once, under concurrency", async () => {
      h.clock.set(DEC_1_NOON);
      const k = await h.newKey();
      const plan: CreditPlan = { initial: 5, refill: { amount: 10, interval: "day" } };
      const limiter = h.limiter();
      await limiter.credits.set(k.keyId, plan, 2);
      const first = await Promise.all(Array.from({ length: 6 }, () => verify(limiter, k, plan)));
      expect(first.filter((r) => r.code === "OK")).toHaveLength(2);
      // Before the boundary, still nothing; a GET (peek) shows the refill the next spend gets.
      h.clock.set(DEC_2 - 1);
      expect((await verify(limiter, k, plan)).code).toBe("CREDITS_EXHAUSTED");
      h.clock.set(DEC_2);
      expect((await limiter.credits.peek([{ keyId: k.keyId, plan }])).get(k.keyId)).toBe(10);
      const rs = await Promise.all(Array.from({ length: 40 }, () => verify(limiter, k, plan)));
      expect(rs.filter((r) => r.code === "OK")).toHaveLength(10);
      h.clock.set(DEC_2 + 3_600_000); // later the same day: no second refill
      expect((await verify(limiter, k, plan)).code).toBe("CREDITS_EXHAUSTED");
    });

    it("a monthly refill happens at the month's start", async () => {
      h.clock.set(Date.UTC(2026, 10, 30, 23, 59));
      const k = await h.newKey();
      const plan: CreditPlan = { initial: 1, refill: { amount: 3, interval: "month" } };
      const limiter = h.limiter();
      expect((await verify(limiter, k, plan)).code).toBe("OK");
      expect((await verify(limiter, k, plan)).code).toBe("CREDITS_EXHAUSTED");
      h.clock.set(DEC_1_NOON);
      const rs = [];
      for (let i = 0; i < 4; i++) rs.push((await verify(limiter, k, plan)).code);
      expect(rs).toEqual(["OK", "OK", "OK", "CREDITS_EXHAUSTED"]);
    });

    it("two instances on one backend refill once at the boundary and never overspend", async () => {
      if (!h.instances) {
        // In-process credits are per process by design (the embedded default keeps them in the
        // database): there is no second instance to agree with.
        expect(h.instances).toBe(false);
        return;
      }
      h.clock.set(DEC_1_NOON);
      const k = await h.newKey();
      const plan: CreditPlan = { initial: 0, refill: { amount: 25, interval: "day" } };
      const a = h.limiter();
      const b = h.limiter();
      expect((await verify(a, k, plan)).code).toBe("CREDITS_EXHAUSTED");
      h.clock.set(DEC_2);
      const rs = await Promise.all(
        Array.from({ length: 60 }, (_, i) => verify(i % 2 ? a : b, k, plan)),
      );
      expect(rs.filter((r) => r.code === "OK")).toHaveLength(25);
      expect((await verify(b, k, plan)).code).toBe("CREDITS_EXHAUSTED");
      await a.close();
      await b.close();
    });
  });
}
