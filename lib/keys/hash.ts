// Hashing and verifying keys. Keys carry 256 bits of entropy, so a plain SHA-256 (no salt, no
// slow KDF) is the right tool: it lets the database look a key up by its hash.
import { createHash, timingSafeEqual } from "node:crypto";

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** SHA-256 of the whole key as 64 lowercase hex characters. Throws on a non-string or empty key. */
export function hashKey(key: string): string {
  if (typeof key !== "string") throw new TypeError("hashKey expects a string");
  if (key.length === 0) throw new TypeError("hashKey expects a non-empty string");
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** True for 64 lowercase hex characters, the stored form of a key hash. */
export function isValidHash(hash: unknown): hash is string {
  return typeof hash === "string" && hash.length === 64 && HASH_PATTERN.test(hash);
}

/**
 * True when `key` hashes to `hash`. Fails closed: a non-string key, an empty key, a malformed
 * hash (not 64 lowercase hex) or any thrown error answers false, never throws.
 */
export function verifyKey(key: unknown, hash: unknown): boolean {
  try {
    if (typeof key !== "string" || key.length === 0 || !isValidHash(hash)) return false;
    const actual = Buffer.from(hashKey(key), "hex");
    const expected = Buffer.from(hash, "hex");
    if (actual.length !== 32 || expected.length !== 32) return false;
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}
