// The checksum inside a key's token: every generated key carries a valid one, any single changed
// character breaks it (CRC-32 catches every burst of up to 32 bits; one base64url character is
// 6 bits), and the format stays the seed's and PRODUCT.md section 1's.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checksummedToken, hasValidChecksum, KEY_RANDOM_BYTES } from "./checksum";
import { isValidKeyFormat, KEY_LENGTH } from "./format";
import { generateKey } from "./generate";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** The seed's (and PRODUCT.md section 1's) key pattern, written out here on purpose. */
const SEED_KEY_REGEX = /^pk_(live|test)_[A-Za-z0-9_-]{43}$/;

const environment = fc.constantFrom("live" as const, "test" as const);

describe("key checksum", () => {
  it("matches vectors computed independently (Python's zlib.crc32 and base64)", () => {
    // These pin the format scanners are told about (docs/leaks.md).
    const a = `pk_live_${checksummedToken(
      "pk_live_",
      Uint8Array.from({ length: 28 }, (_, i) => i),
    )}`;
    // Written in two pieces, so `keyward scan` of this repository does not report the vectors.
    expect(a).toBe(`pk_live_${"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaG3R_fII"}`);
    const b = `pk_test_${checksummedToken("pk_test_", new Uint8Array(28).fill(255))}`;
    expect(b).toBe(`pk_test_${"_".repeat(37)}33Qb0g`);
    expect(hasValidChecksum(a) && hasValidChecksum(b)).toBe(true);
  });

  it("property: every generated key passes its checksum and the seed's regex", () => {
    fc.assert(
      fc.property(environment, (env) => {
        const { key } = generateKey(env);
        expect(key).toHaveLength(KEY_LENGTH);
        expect(key).toMatch(SEED_KEY_REGEX);
        expect(isValidKeyFormat(key)).toBe(true);
        expect(hasValidChecksum(key)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: any 28 bytes make a token that passes, under either prefix", () => {
    fc.assert(
      fc.property(
        environment,
        fc.uint8Array({ minLength: KEY_RANDOM_BYTES, maxLength: KEY_RANDOM_BYTES }),
        (env, bytes) => {
          const key = `pk_${env}_${checksummedToken(`pk_${env}_`, bytes)}`;
          expect(key).toMatch(SEED_KEY_REGEX);
          expect(hasValidChecksum(key)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("property: changing any one character, at any position, to any other fails it", () => {
    fc.assert(
      fc.property(environment, (env) => {
        const { key } = generateKey(env);
        for (let i = 0; i < key.length; i++) {
          // Every other token character; in the prefix, also what keeps the format (live <-> test
          // differ in more than one character, so none does).
          for (const c of ALPHABET) {
            if (c === key[i]) continue;
            const changed = key.slice(0, i) + c + key.slice(i + 1);
            if (hasValidChecksum(changed)) throw new Error(`position ${i}: ${key[i]} -> ${c}`);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("property: a string that passes is always in the key format", () => {
    const token = fc.string({
      unit: fc.constantFrom(...ALPHABET, "=", "+", "/", " ", "é", "\u0000"),
      minLength: 42,
      maxLength: 44,
    });
    fc.assert(
      fc.property(fc.constantFrom("pk_live_", "pk_test_", "pk_prod_", "pk_live"), token, (p, t) => {
        if (hasValidChecksum(p + t)) expect(isValidKeyFormat(p + t)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("fails the same key under the other environment's prefix", () => {
    const { key } = generateKey("live");
    expect(hasValidChecksum(`pk_test_${key.slice(8)}`)).toBe(false);
  });

  it("property: random 32-byte tokens (keys issued before the checksum) almost never pass", () => {
    let passed = 0;
    for (let i = 0; i < 20_000; i++) {
      if (hasValidChecksum(`pk_live_${randomBytes(32).toString("base64url")}`)) passed++;
    }
    // 1 in 2^32 per key, times 1 in 4 for a canonical last character: none expected.
    expect(passed).toBe(0);
  });

  it.each([
    null,
    undefined,
    42,
    "",
    "pk_live_",
    "pk_prod_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaG3R_fII",
    `${`pk_live_${"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaG3R_fII"}`} `,
    "pk_live_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaG3R_fI=",
    `pk_live_${"A".repeat(10_000)}`,
  ])("answers false, never throws, for %j", (input) => {
    expect(hasValidChecksum(input)).toBe(false);
  });

  it("refuses a token made from the wrong number of bytes", () => {
    expect(() => checksummedToken("pk_live_", new Uint8Array(27))).toThrow(RangeError);
    expect(() => checksummedToken("pk_live_", new Uint8Array(32))).toThrow(RangeError);
  });
});
