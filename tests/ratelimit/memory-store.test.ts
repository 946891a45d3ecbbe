import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryRateLimitStore } from "@/lib/ratelimit/memory-store";
import { alignedStart, runStoreSuite, TestClock } from "./store-suite";

runStoreSuite("memory", async () => {
  const clock = new TestClock(alignedStart());
  const store = new MemoryRateLimitStore({ now: clock.now });
  return { store, clock, newKey: async () => `k:${randomUUID()}`, close: () => store.close() };
});

describe("memory store bounds", () => {
  it("sweeps entries two windows after their window began", async () => {
    const clock = new TestClock(alignedStart());
    const store = new MemoryRateLimitStore({ now: clock.now, sweepIntervalMs: 1_000 });
    for (let i = 0; i < 100; i++) await store.hit(`k${i}`, 10, 60_000);
    expect(store.size).toBe(100);
    clock.advance(60_000); // still the previous window: kept
    await store.hit("other", 10, 60_000);
    expect(store.size).toBe(101);
    clock.advance(60_000);
    await store.hit("other", 10, 60_000);
    expect(store.size).toBe(1);
  });

  it("never holds more than maxKeys, evicting the least recently used", async () => {
    const clock = new TestClock(alignedStart());
    const store = new MemoryRateLimitStore({ now: clock.now, maxKeys: 3 });
    await store.hit("a", 1, 60_000);
    await store.hit("b", 1, 60_000);
    await store.hit("c", 1, 60_000);
    await store.hit("d", 1, 60_000); // evicts a
    expect(store.size).toBe(3);
    expect((await store.hit("a", 1, 60_000)).allowed).toBe(true); // forgotten, starts afresh
    expect((await store.hit("c", 1, 60_000)).allowed).toBe(false); // still held
  });
});
