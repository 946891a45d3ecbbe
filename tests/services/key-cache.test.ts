import { describe, expect, it } from "vitest";
import { type CachedKey, KeyCache } from "@/lib/services/key-cache";

const key = (id: string): CachedKey => ({
  id,
  organizationId: "org",
  keyHash: `h${id}`,
  name: "k",
  prefix: "pk_live_",
  hint: "abcd",
  environment: "live",
  status: "active",
  scopes: [],
  expiresAt: null,
  rateLimitPerMinute: null,
  credits: null,
  spendLimitMicros: null,
  allowlist: null,
  externalId: null,
  meta: null,
  organization: {
    id: "org",
    name: "o",
    slug: "o",
    plan: "FREE",
    isActive: true,
    rateLimitPerMinute: 60,
    monthlyQuota: 10_000,
    maxActiveKeys: 5,
    spendLimitMicros: null,
  },
});

describe("KeyCache", () => {
  it("answers a hit within the TTL and a miss after it", () => {
    let t = 0;
    const c = new KeyCache({ now: () => t });
    c.set("a", key("1"));
    expect(c.get("a")).toEqual({ hit: true, value: key("1") });
    t = 999;
    expect(c.get("a").hit).toBe(true);
    t = 1000;
    expect(c.get("a").hit).toBe(false);
  });

  it("never keeps an entry longer than a second, whatever it is told", () => {
    let t = 0;
    const c = new KeyCache({ ttlMs: 60_000, negativeTtlMs: 60_000, now: () => t });
    expect(c.ttlMs).toBe(1000);
    c.set("a", key("1"));
    c.set("b", null);
    t = 1000;
    expect(c.get("a").hit).toBe(false);
    expect(c.get("b").hit).toBe(false);
  });

  it("caches a missing key as a hit with no value", () => {
    const c = new KeyCache();
    c.set("nope", null);
    expect(c.get("nope")).toEqual({ hit: true, value: null });
  });

  it("invalidate drops the entry at once and tells the listeners", () => {
    const c = new KeyCache();
    const told: string[] = [];
    c.onInvalidate((h) => told.push(h));
    c.set("a", key("1"));
    c.invalidate("a");
    expect(c.get("a").hit).toBe(false);
    expect(told).toEqual(["a"]);
  });

  it("invalidateKeyId finds the entry by key id", () => {
    const c = new KeyCache();
    c.set("a", key("1"));
    c.invalidateKeyId("1");
    expect(c.get("a").hit).toBe(false);
  });

  it("drop (a message from another instance) does not echo", () => {
    const c = new KeyCache();
    const told: string[] = [];
    c.onInvalidate((h) => told.push(h));
    c.set("a", key("1"));
    c.drop("a");
    expect(c.get("a").hit).toBe(false);
    expect(told).toEqual([]);
  });

  it("is bounded, evicting the least recently used", () => {
    const c = new KeyCache({ maxEntries: 3 });
    c.set("a", key("1"));
    c.set("b", key("2"));
    c.set("c", key("3"));
    c.get("a");
    c.set("d", key("4"));
    expect(c.get("b").hit).toBe(false);
    expect(c.get("a").hit).toBe(true);
    expect(c.get("d").hit).toBe(true);
  });

  it("a flood of unknown keys does not evict known ones", () => {
    const c = new KeyCache({ maxEntries: 10 });
    c.set("real", key("1"));
    for (let i = 0; i < 1000; i++) c.set(`junk${i}`, null);
    expect(c.get("real").hit).toBe(true);
    expect(c.size).toBeLessThanOrEqual(20);
  });

  it("a found key replaces a cached miss for the same hash", () => {
    const c = new KeyCache();
    c.set("a", null);
    c.set("a", key("1"));
    expect(c.get("a")).toEqual({ hit: true, value: key("1") });
  });
});

describe("KeyCache.lookup: one lookup per hash for requests that miss together", () => {
  const deferred = () => {
    let resolve!: (v: CachedKey | null) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<CachedKey | null>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it("50 concurrent misses make one load, and its answer is cached", async () => {
    const c = new KeyCache();
    let loads = 0;
    const d = deferred();
    const load = () => {
      loads++;
      return d.promise;
    };
    const waiting = Array.from({ length: 50 }, () => c.lookup("a", load));
    expect(loads).toBe(1);
    d.resolve(key("1"));
    const answers = await Promise.all(waiting.map((w) => ("hit" in w ? w.value : w)));
    expect(answers.every((a) => a?.id === "1")).toBe(true);
    expect(c.lookup("a", load)).toEqual({ hit: true, value: key("1") });
    expect(loads).toBe(1);
  });

  it("a drop (revoke) while the load runs: its answer is not cached, and later requests load again", async () => {
    const c = new KeyCache();
    const first = deferred();
    const second = deferred();
    const loads = [first, second];
    let n = 0;
    const load = () => loads[n++]!.promise;
    const before = c.lookup("a", load) as Promise<CachedKey | null>;
    c.invalidate("a");
    const after = c.lookup("a", load) as Promise<CachedKey | null>;
    expect(n).toBe(2);
    first.resolve(key("stale"));
    second.resolve({ ...key("1"), status: "revoked" });
    expect((await before)?.id).toBe("stale"); // asked before the revoke
    expect((await after)?.status).toBe("revoked");
    expect(c.get("a")).toEqual({ hit: true, value: { ...key("1"), status: "revoked" } });
  });

  it("a failed load fails its waiters, caches nothing, and the next miss loads again", async () => {
    const c = new KeyCache();
    const d = deferred();
    let loads = 0;
    const failing = () => {
      loads++;
      return d.promise;
    };
    const waiting = [c.lookup("a", failing), c.lookup("a", failing)];
    d.reject(new Error("database unavailable"));
    for (const w of waiting) await expect(w).rejects.toThrow("database unavailable");
    expect(c.get("a")).toEqual({ hit: false });
    const again = c.lookup("a", async () => key("2"));
    expect(loads).toBe(1);
    expect(("hit" in again ? again.value : await again)?.id).toBe("2");
  });
});
