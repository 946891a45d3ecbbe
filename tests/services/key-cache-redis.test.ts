// Revocation across instances: two caches (two "instances") share invalidations over Redis.
// Runs when REDIS_URL is set.
import { describe, expect, it } from "vitest";
import { type CachedKey, connectKeyCacheInvalidation, KeyCache } from "@/lib/services/key-cache";

const url = process.env.REDIS_URL;
const hash = "a".repeat(64);
const key = { id: "k1", organizationId: "o" } as CachedKey;

describe.skipIf(!url)("key cache invalidation over Redis", () => {
  it("a drop on one instance reaches the other within a second", async () => {
    const a = new KeyCache();
    const b = new KeyCache();
    const closeA = await connectKeyCacheInvalidation(a, url!);
    const closeB = await connectKeyCacheInvalidation(b, url!);
    expect(closeA && closeB).toBeTruthy();
    try {
      a.set(hash, key);
      b.set(hash, key);
      a.invalidate(hash);
      expect(a.get(hash).hit).toBe(false);
      const deadline = Date.now() + 900;
      while (b.get(hash).hit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(b.get(hash).hit).toBe(false);
    } finally {
      await closeA?.();
      await closeB?.();
    }
  });
});
