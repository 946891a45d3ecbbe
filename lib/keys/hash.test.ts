import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateKey } from "./generate";
import { hashKey, isValidHash, verifyKey } from "./hash";

const KEY = "pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";

describe("hashKey", () => {
  it("is SHA-256 of the whole key as 64 lowercase hex characters", () => {
    const h = hashKey(KEY);
    expect(h).toBe(createHash("sha256").update(KEY).digest("hex"));
    expect(h).toMatch(/^[0-9a-f]{64}$/);
  });

  it("matches a known vector", () => {
    // sha256("abc")
    expect(hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("is deterministic and sensitive to every character", () => {
    expect(hashKey(KEY)).toBe(hashKey(KEY));
    const seen = new Set([hashKey(KEY)]);
    for (let i = 0; i < KEY.length; i++) {
      const changed = KEY.slice(0, i) + (KEY[i] === "x" ? "y" : "x") + KEY.slice(i + 1);
      seen.add(hashKey(changed));
    }
    expect(seen.size).toBe(KEY.length + 1);
  });

  it("hashes the prefix too: the same token in two environments differs", () => {
    expect(hashKey(KEY)).not.toBe(hashKey(KEY.replace("pk_live_", "pk_test_")));
  });

  it("hashes unicode as UTF-8", () => {
    expect(hashKey("ключ😀")).toBe(createHash("sha256").update("ключ😀", "utf8").digest("hex"));
    expect(hashKey("é")).not.toBe(hashKey("e\u0301"));
  });

  it.each([null, undefined, 1, {}, [], Buffer.from("x")])("throws TypeError for %j", (v) => {
    expect(() => hashKey(v as never)).toThrow(TypeError);
  });

  it("throws TypeError for an empty string", () => {
    expect(() => hashKey("")).toThrow(TypeError);
  });
});

describe("isValidHash", () => {
  it("accepts 64 lowercase hex characters", () => {
    expect(isValidHash(hashKey(KEY))).toBe(true);
    expect(isValidHash("0".repeat(64))).toBe(true);
  });

  it.each([
    ["upper case", hashKey(KEY).toUpperCase()],
    ["63 chars", "a".repeat(63)],
    ["65 chars", "a".repeat(65)],
    ["non-hex", "g".repeat(64)],
    ["spaces", ` ${"a".repeat(63)}`],
    ["newline", `${"a".repeat(64)}\n`],
    ["empty", ""],
    ["unicode digit", `${"a".repeat(63)}٣`],
    ["null", null],
    ["number", 42],
    ["object", {}],
  ])("rejects %s", (_label, v) => {
    expect(isValidHash(v)).toBe(false);
  });
});

describe("verifyKey", () => {
  it("is true for the key's own hash and false for another's", () => {
    const a = generateKey("live");
    const b = generateKey("live");
    expect(verifyKey(a.key, a.hash)).toBe(true);
    expect(verifyKey(a.key, b.hash)).toBe(false);
    expect(verifyKey(b.key, a.hash)).toBe(false);
  });

  it("is false for a key that differs in one character", () => {
    const a = generateKey("test");
    const last = a.key.at(-1) === "A" ? "B" : "A";
    expect(verifyKey(a.key.slice(0, -1) + last, a.hash)).toBe(false);
  });

  it("fails closed on malformed hashes without throwing", () => {
    const g = generateKey("live");
    for (const bad of [
      g.hash.toUpperCase(),
      g.hash.slice(0, 63),
      `${g.hash}0`,
      "",
      "z".repeat(64),
      null,
      undefined,
      123,
      {},
      [g.hash],
      Buffer.from(g.hash, "hex"),
    ]) {
      expect(verifyKey(g.key, bad)).toBe(false);
    }
  });

  it("fails closed on non-string and empty keys without throwing", () => {
    const h = hashKey(KEY);
    for (const bad of [null, undefined, 0, {}, [KEY], "", new String(KEY), Symbol("k")]) {
      expect(verifyKey(bad, h)).toBe(false);
    }
  });

  it("handles unicode and very long keys", () => {
    expect(verifyKey("ключ😀", hashKey("ключ😀"))).toBe(true);
    const long = "x".repeat(1_000_000);
    expect(verifyKey(long, hashKey(long))).toBe(true);
    expect(verifyKey(`${long}y`, hashKey(long))).toBe(false);
  });

  it("property: verify(k, hash(k)) and not verify(k, hash(k')) for k != k'", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const ok = verifyKey(a, hashKey(a));
        return a === b ? ok : ok && !verifyKey(a, hashKey(b));
      }),
      { numRuns: 1_000 },
    );
  });
});
