// Key material in one place: a new key's plaintext, hash, prefix and hint come back together,
// so no caller ever hashes or slices a key by hand.
import { randomBytes } from "node:crypto";
import { checksummedToken, KEY_RANDOM_BYTES } from "./checksum";
import {
  KEY_HINT_LENGTH,
  type KeyEnvironment,
  type KeyPrefix,
  normalizeEnvironment,
} from "./format";
import { hashKey } from "./hash";

export interface GeneratedKey {
  /** The plaintext key: shown once, never stored. */
  key: string;
  /** SHA-256 of `key`, 64 lowercase hex: what the database stores. */
  hash: string;
  prefix: KeyPrefix;
  /** The last four characters of `key`. */
  hint: string;
  environment: KeyEnvironment;
}

/**
 * A new key for `live` or `test` (either case): 28 CSPRNG bytes and their CRC-32 checksum
 * (lib/keys/checksum.ts). Throws on another environment.
 */
export function generateKey(environment: KeyEnvironment | "LIVE" | "TEST"): GeneratedKey {
  const env = normalizeEnvironment(environment);
  const prefix: KeyPrefix = `pk_${env}_`;
  const key = prefix + checksummedToken(prefix, randomBytes(KEY_RANDOM_BYTES));
  return { key, hash: hashKey(key), prefix, hint: key.slice(-KEY_HINT_LENGTH), environment: env };
}
