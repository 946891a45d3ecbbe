// The checksum inside a key's token (PRODUCT.md section 12): 28 random bytes followed by the
// CRC-32 (big-endian) of the ASCII prefix `pk_{env}_` and those 28 bytes, the 32 bytes written
// as 43 base64url characters. A typo or an invented key fails it before any lookup, and secret
// scanners can tell a real key from a look-alike. CRC-32 is not a secret and proves nothing
// about a key's validity: it only catches what cannot be one. node:zlib's crc32 (Node >= 20.15,
// and Keyward needs >= 20.19) is a C implementation: no package needed.
import { crc32 } from "node:zlib";
import { isValidKeyFormat, KEY_PREFIX_LENGTH, type KeyPrefix } from "./format";

/** Random bytes in a checksummed token: 224 bits, then 4 bytes of CRC-32. */
export const KEY_RANDOM_BYTES = 28;
const TOKEN_BYTES = KEY_RANDOM_BYTES + 4;

// The 43rd character carries 4 bits of the 256 (43 * 6 = 258): its two low bits must be zero,
// or two spellings would decode to the same bytes and a changed last character could still pass.
const LAST_CHAR_OK = new Uint8Array(128);
for (const c of "AEIMQUYcgkosw048") LAST_CHAR_OK[c.charCodeAt(0)] = 1;

function checksumOf(prefix: string, random: Uint8Array): number {
  return crc32(random, crc32(prefix)) >>> 0;
}

/** The 43-character token for `prefix` from exactly 28 random bytes. */
export function checksummedToken(prefix: KeyPrefix, random: Uint8Array): string {
  if (random.length !== KEY_RANDOM_BYTES) {
    throw new RangeError(`a key's token needs exactly ${KEY_RANDOM_BYTES} random bytes`);
  }
  const bytes = Buffer.alloc(TOKEN_BYTES);
  bytes.set(random, 0);
  bytes.writeUInt32BE(checksumOf(prefix, random), KEY_RANDOM_BYTES);
  return bytes.toString("base64url");
}

/**
 * True when `key` is in the key format and its token's checksum holds. Pure and cheap (one
 * base64 decode of 43 characters, one CRC over 36 bytes); never throws on untrusted input.
 */
export function hasValidChecksum(key: unknown): key is string {
  if (!isValidKeyFormat(key)) return false;
  if (LAST_CHAR_OK[key.charCodeAt(key.length - 1)] !== 1) return false;
  const bytes = Buffer.from(key.slice(KEY_PREFIX_LENGTH), "base64url");
  if (bytes.length !== TOKEN_BYTES) return false;
  const random = bytes.subarray(0, KEY_RANDOM_BYTES);
  return (
    bytes.readUInt32BE(KEY_RANDOM_BYTES) === checksumOf(key.slice(0, KEY_PREFIX_LENGTH), random)
  );
}
