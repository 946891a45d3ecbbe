// The suite every rate-limit store passes: memory, PostgreSQL (PGlite and a server)
// and Redis. Time is a controllable clock handed to the store, never a sleep.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RateLimitStore } from "@/lib/ratelimit/types";

export class TestClock {
  t: number;
  constructor(start: number) {
    this.t = start;
  }
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/** An hour boundary near the real time, so every window in the suite starts aligned. */
export function alignedStart(): number {
  return Math.ceil(Date.now() / 3_600_000) * 3_600_000;
}

export interface StoreHarness {
  store: RateLimitStore;
  clock: TestClock;
  /** A key nobody else uses (for PostgreSQL: one that maps to a real ApiKey row). */
  newKey(): Promise<string>;
  close(): Promise<void>;
}

const W = 60_000;

export function runStoreSuite(name: string, make: () => Promise<StoreHarness>): void {
  describe(`rate-limit store: ${name}`, () => {
    let h: StoreHarness;
    let t0: number;
    let key: string;

    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => {
      await h?.close();
    });
    beforeEach(async () => {
      t0 = alignedStart();
      h.clock.set(t0);
      key = await h.newKey();
    });

    const hits = async (k: string, n: number, limit: number, windowMs = W) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await h.store.hit(k, limit, windowMs));
      return out;
    };

    it("admits up to the limit, then denies", async () => {
      const results = await hits(key, 12, 10);
      expect(results.map((r) => r.allowed)).toEqual([...Array(10).fill(true), false, false]);
      expect(results.map((r) => r.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0]);
      for (const r of results) expect(r.limit).toBe(10);
    });

    it("reports reset and retry-after exactly", async () => {
      const first = await h.store.hit(key, 10, W);
      // One hit in an otherwise empty window keeps its slot until it has fully slid out.
      expect(first).toEqual({
        allowed: true,
        limit: 10,
        remaining: 9,
        reset: t0 + 2 * W,
        retryAfterMs: 0,
      });
      await hits(key, 9, 10);
      h.clock.advance(1_000);
      const denied = await h.store.hit(key, 10, W);
      // 10 hits in the previous window weigh 9 once 10% of the new window has passed.
      expect(denied.allowed).toBe(false);
      expect(denied.remaining).toBe(0);
      expect(denied.retryAfterMs).toBe(W - 1_000 + 6_000);
      expect(denied.reset).toBe(t0 + W + 6_000);

      h.clock.set(t0 + W + 5_999);
      expect((await h.store.hit(key, 10, W)).allowed).toBe(false);
      h.clock.set(t0 + W + 6_000);
      const ok = await h.store.hit(key, 10, W);
      expect(ok.allowed).toBe(true);
      expect(ok.remaining).toBe(0);
      expect(ok.retryAfterMs).toBe(0);
    });

    it("a denied hit consumes nothing", async () => {
      await hits(key, 5, 5);
      for (let i = 0; i < 20; i++) expect((await h.store.hit(key, 5, W)).allowed).toBe(false);
      // If the denials had counted, the previous window would weigh far more than 5.
      h.clock.set(t0 + W + W / 2); // previous window (5) weighs 2.5
      const r = await h.store.hit(key, 5, W);
      expect(r.allowed).toBe(true);
      expect(r.remaining).toBe(1); // 5 - 2.5 - 1 = 1.5
      expect((await h.store.hit(key, 5, W)).allowed).toBe(true); // 2.5 + 2 = 4.5
      expect((await h.store.hit(key, 5, W)).allowed).toBe(false); // 2.5 + 3 > 5
    });

    it("slides: the previous window's weight decays over the current one", async () => {
      h.clock.set(t0 + W - 1);
      await hits(key, 10, 10);
      expect((await h.store.hit(key, 10, W)).allowed).toBe(false);
      h.clock.set(t0 + W + W / 4); // weight 0.75 -> 7.5 used
      const rs = await hits(key, 3, 10);
      expect(rs.map((r) => r.allowed)).toEqual([true, true, false]);
      expect(rs[1].remaining).toBe(0); // 7.5 + 2 = 9.5
      h.clock.set(t0 + 2 * W); // the first window has slid out; the 2 later hits count in full
      const r = await h.store.hit(key, 10, W);
      expect(r.allowed).toBe(true);
      expect(r.remaining).toBe(10 - 2 - 1);
      h.clock.set(t0 + 4 * W); // long idle: everything forgotten
      expect((await h.store.hit(key, 10, W)).remaining).toBe(9);
    });

    it("keeps keys apart", async () => {
      const other = await h.newKey();
      await hits(key, 3, 3);
      expect((await h.store.hit(key, 3, W)).allowed).toBe(false);
      const r = await h.store.hit(other, 3, W);
      expect(r.allowed).toBe(true);
      expect(r.remaining).toBe(2);
    });

    it("reset forgets a key and only that key", async () => {
      const other = await h.newKey();
      await hits(key, 3, 3);
      await hits(other, 3, 3);
      await h.store.reset(key);
      expect((await h.store.hit(key, 3, W)).remaining).toBe(2);
      expect((await h.store.hit(other, 3, W)).allowed).toBe(false);
    });

    it("counts a cost above one, and never admits a cost above the limit", async () => {
      const r = await h.store.hit(key, 10, W, 4);
      expect(r).toMatchObject({ allowed: true, remaining: 6 });
      expect((await h.store.hit(key, 10, W, 7)).allowed).toBe(false);
      expect((await h.store.hit(key, 10, W, 6)).remaining).toBe(0);
      const other = await h.newKey();
      const big = await h.store.hit(other, 10, W, 11);
      expect(big.allowed).toBe(false);
      expect(big.retryAfterMs).toBeGreaterThan(0);
    });

    it("works with other window lengths (15 minutes)", async () => {
      const w15 = 15 * 60_000;
      await hits(key, 5, 5, w15);
      expect((await h.store.hit(key, 5, w15)).allowed).toBe(false);
      h.clock.advance(w15 - 1);
      expect((await h.store.hit(key, 5, w15)).allowed).toBe(false);
      h.clock.advance(2 * w15);
      expect((await h.store.hit(key, 5, w15)).allowed).toBe(true);
    });

    it("peek reports without counting", async () => {
      if (!h.store.peek) return;
      await hits(key, 4, 5);
      const p1 = await h.store.peek(key, 5, W);
      const p2 = await h.store.peek(key, 5, W);
      expect(p1).toEqual(p2);
      expect(p1).toMatchObject({ allowed: true, remaining: 1 });
      await h.store.hit(key, 5, W);
      expect(await h.store.peek(key, 5, W)).toMatchObject({ allowed: false, remaining: 0 });
    });

    it("admits exactly 100 of 200 simultaneous hits against a limit of 100", async () => {
      const results = await Promise.all(
        Array.from({ length: 200 }, () => h.store.hit(key, 100, W)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(100);
      const remainings = results.filter((r) => r.allowed).map((r) => r.remaining);
      expect(new Set(remainings).size).toBe(100); // each admitted hit saw its own slot
      expect(Math.min(...remainings)).toBe(0);
      expect((await h.store.hit(key, 100, W)).allowed).toBe(false);
    });

    it("reserves exactly 5 of 60 simultaneous reservations, each naming its window", async () => {
      const w15 = 15 * W;
      h.clock.advance(90_000);
      const results = await Promise.all(
        Array.from({ length: 60 }, () => h.store.reserve(key, 5, w15)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
      for (const r of results) expect(r.windowStart).toBe(t0);
      // A refused reservation says how long to wait (never "now", even under a race).
      for (const r of results.filter((x) => !x.allowed)) expect(r.retryAfterMs).toBeGreaterThan(0);
      expect((await h.store.hit(key, 5, w15)).allowed).toBe(false);
    });

    it("release gives a slot back in the same window, never below zero", async () => {
      const taken = await Promise.all([1, 2, 3].map(() => h.store.reserve(key, 3, W)));
      expect(taken.every((r) => r.allowed)).toBe(true);
      expect((await h.store.reserve(key, 3, W)).allowed).toBe(false);
      await h.store.release(key, taken[0].windowStart, W);
      expect((await h.store.reserve(key, 3, W)).allowed).toBe(true);
      expect((await h.store.reserve(key, 3, W)).allowed).toBe(false);
      // Releasing more than was counted empties the window and no more: the limit still holds.
      for (let i = 0; i < 10; i++) await h.store.release(key, taken[0].windowStart, W);
      const after = await Promise.all(Array.from({ length: 6 }, () => h.store.reserve(key, 3, W)));
      expect(after.filter((r) => r.allowed)).toHaveLength(3);
    });

    it("release after the window rolled lowers the previous window's weight", async () => {
      const first = await h.store.reserve(key, 10, W);
      await Promise.all(Array.from({ length: 9 }, () => h.store.hit(key, 10, W)));
      h.clock.advance(W + W / 2); // half into the next window: 10 previous hits weigh 5
      expect((await h.store.hit(key, 10, W)).allowed).toBe(true); // 5 + 1
      await h.store.release(key, first.windowStart, W, 4); // previous 6, weighing 3
      const more = await Promise.all(Array.from({ length: 10 }, () => h.store.hit(key, 10, W)));
      expect(more.filter((r) => r.allowed)).toHaveLength(6); // 3 + 1 + 6 = 10
    });

    it("a release for a window that no longer counts changes nothing", async () => {
      const old = await h.store.reserve(key, 3, W);
      h.clock.advance(2 * W);
      await Promise.all([1, 2, 3].map(() => h.store.hit(key, 3, W)));
      await h.store.release(key, old.windowStart, W);
      expect((await h.store.hit(key, 3, W)).allowed).toBe(false);
    });

    it("concurrent reservations and releases never let more than the limit through", async () => {
      const held = await Promise.all(Array.from({ length: 5 }, () => h.store.reserve(key, 5, W)));
      expect(held.every((r) => r.allowed)).toBe(true);
      const raced = await Promise.all([
        ...held.map((r) => h.store.release(key, r.windowStart, W).then(() => null)),
        ...Array.from({ length: 20 }, () => h.store.reserve(key, 5, W)),
      ]);
      const admitted = raced.filter((r) => r?.allowed).length;
      expect(admitted).toBeLessThanOrEqual(5);
      // What the race admitted is exactly what is counted: the rest of the limit is still free.
      const later = await Promise.all(Array.from({ length: 10 }, () => h.store.reserve(key, 5, W)));
      expect(admitted + later.filter((r) => r.allowed).length).toBe(5);
    });

    it("rejects nonsense arguments", async () => {
      await expect(h.store.reserve(key, -1, W)).rejects.toThrow(RangeError);
      await expect(h.store.release(key, t0, W, 0)).rejects.toThrow(RangeError);
      await expect(h.store.hit(key, -1, W)).rejects.toThrow(RangeError);
      await expect(h.store.hit(key, 10, 0)).rejects.toThrow(RangeError);
      await expect(h.store.hit(key, 10, W, 0)).rejects.toThrow(RangeError);
    });
  });
}
