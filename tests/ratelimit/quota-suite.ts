// The suite every monthly quota counter passes: memory, Redis, PostgreSQL (PGlite and a
// server), and the verify path's combined Redis script. Time is a controllable clock.
import { afterAll, describe, expect, it } from "vitest";
import type { QuotaCounter } from "@/lib/ratelimit/quota";
import type { TestClock } from "./store-suite";

export const NOV_15 = Date.UTC(2026, 10, 15, 12);
export const DEC_1 = Date.UTC(2026, 11, 1);

export type QuotaHarness = { counter: QuotaCounter; clock: TestClock; org(): Promise<string> };

export function quotaSuite(
  name: string,
  make: () => Promise<QuotaHarness & { close(): Promise<void> }>,
) {
  describe(`quota counter: ${name}`, () => {
    let h: QuotaHarness & { close(): Promise<void> };
    afterAll(() => h?.close());

    it("spends up to the quota, refuses after, and a refusal spends nothing", async () => {
      h = await make();
      h.clock.set(NOV_15);
      const org = await h.org();
      const rs = [];
      for (let i = 0; i < 5; i++) rs.push(await h.counter.consume(org, 3));
      expect(rs.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
      expect(rs.map((r) => r.used)).toEqual([1, 2, 3, 3, 3]);
      expect(rs[2]).toEqual({ allowed: true, limit: 3, used: 3, remaining: 0, reset: DEC_1 });
      expect(await h.counter.peek(org, 3)).toMatchObject({ allowed: false, used: 3 });
      expect((await h.counter.consume(org, 5)).used).toBe(4); // a raised quota applies at once
    });

    it("counts a cost, keeps organizations apart, and starts afresh each month", async () => {
      h.clock.set(NOV_15);
      const a = await h.org();
      const b = await h.org();
      expect((await h.counter.consume(a, 10, 7)).remaining).toBe(3);
      expect((await h.counter.consume(a, 10, 4)).allowed).toBe(false);
      expect((await h.counter.consume(b, 10)).used).toBe(1);
      h.clock.set(DEC_1);
      const r = await h.counter.consume(a, 10);
      expect(r).toMatchObject({ allowed: true, used: 1, reset: Date.UTC(2027, 0, 1) });
    });

    it("is exact under concurrency: 50 of 80 simultaneous requests", async () => {
      h.clock.set(NOV_15);
      const org = await h.org();
      const rs = await Promise.all(Array.from({ length: 80 }, () => h.counter.consume(org, 50)));
      expect(rs.filter((r) => r.allowed)).toHaveLength(50);
    });
  });
}
