import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidKeyFormat, KEY_LENGTH } from "./format";
import { generateKey } from "./generate";
import { hashKey, isValidHash, verifyKey } from "./hash";

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("generateKey", () => {
  it.each(["live", "test"] as const)("makes a well-formed %s key of 51 characters", (env) => {
    const g = generateKey(env);
    expect(g.key).toHaveLength(51);
    expect(g.key).toHaveLength(KEY_LENGTH);
    expect(g.key.startsWith(`pk_${env}_`)).toBe(true);
    expect(g.key.slice(8)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(g.prefix).toBe(`pk_${env}_`);
    expect(g.environment).toBe(env);
    expect(isValidKeyFormat(g.key)).toBe(true);
  });

  it("returns hash, prefix and hint that belong to the key", () => {
    const g = generateKey("live");
    expect(g.hash).toBe(hashKey(g.key));
    expect(isValidHash(g.hash)).toBe(true);
    expect(g.hint).toBe(g.key.slice(-4));
    expect(g.hint).toHaveLength(4);
    expect(verifyKey(g.key, g.hash)).toBe(true);
  });

  it("accepts the database enum spelling", () => {
    expect(generateKey("LIVE").prefix).toBe("pk_live_");
    expect(generateKey("TEST").environment).toBe("test");
  });

  it.each(["prod", "", "Live ", " live", null, undefined, 1, {}])(
    "throws a TypeError for environment %j",
    (env) => {
      expect(() => generateKey(env as never)).toThrow(TypeError);
    },
  );

  it("never repeats over 10,000 keys, and neither do their hashes", () => {
    const keys = new Set<string>();
    const hashes = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const g = generateKey(i % 2 ? "live" : "test");
      keys.add(g.key);
      hashes.add(g.hash);
    }
    expect(keys.size).toBe(10_000);
    expect(hashes.size).toBe(10_000);
  });

  it("decodes back to exactly 32 random bytes (canonical base64url, no padding)", () => {
    for (let i = 0; i < 200; i++) {
      const token = generateKey("live").key.slice(8);
      const bytes = Buffer.from(token, "base64url");
      expect(bytes).toHaveLength(32);
      expect(bytes.toString("base64url")).toBe(token);
      expect(token).not.toContain("=");
    }
  });

  it("uses the whole base64url alphabet with a roughly uniform distribution", () => {
    // 2,000 tokens x 42 free positions = 84,000 characters over 64 symbols: expect ~1,312
    // each. The last position carries only 4 bits, so it is left out of the count.
    const counts = new Map<string, number>();
    const n = 2_000;
    for (let i = 0; i < n; i++) {
      const token = generateKey("test").key.slice(8, 8 + 42);
      for (const ch of token) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...TOKEN_ALPHABET].sort());
    const expected = (n * 42) / 64;
    let chiSquare = 0;
    for (const ch of TOKEN_ALPHABET) {
      const c = counts.get(ch) ?? 0;
      expect(c).toBeGreaterThan(expected * 0.8);
      expect(c).toBeLessThan(expected * 1.2);
      chiSquare += (c - expected) ** 2 / expected;
    }
    // 63 degrees of freedom: p = 1e-6 is about 130. A sound CSPRNG passes with a wide margin.
    expect(chiSquare).toBeLessThan(130);
  });

  it("has high per-bit entropy: each of the 256 bits is set about half the time", () => {
    const ones = new Array(256).fill(0);
    const n = 4_000;
    for (let i = 0; i < n; i++) {
      const bytes = Buffer.from(generateKey("live").key.slice(8), "base64url");
      for (let bit = 0; bit < 256; bit++) {
        if (bytes[bit >> 3] & (1 << (bit & 7))) ones[bit]++;
      }
    }
    // Binomial(4000, 0.5): sd ~ 31.6; 6 sd either side of 2000.
    for (const c of ones) {
      expect(c).toBeGreaterThan(2000 - 190);
      expect(c).toBeLessThan(2000 + 190);
    }
  });

  it("keys of the two environments differ only in prefix format, not token format", () => {
    const live = generateKey("live");
    const test = generateKey("test");
    expect(live.key.slice(8)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(test.key.slice(8)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(live.hash).not.toBe(test.hash);
  });

  it("property: every generated key round-trips through format, environment and verify", () => {
    fc.assert(
      fc.property(fc.constantFrom("live" as const, "test" as const), (env) => {
        const g = generateKey(env);
        return (
          isValidKeyFormat(g.key) &&
          g.key.startsWith(`pk_${env}_`) &&
          verifyKey(g.key, g.hash) &&
          !verifyKey(`${g.key.slice(0, -1)}${g.key.endsWith("A") ? "B" : "A"}`, g.hash)
        );
      }),
      { numRuns: 500 },
    );
  });
});
