// The checksum inside a key's token (PRODUCT.md section 12): 28 random bytes followed by the
// CRC-32 (big-endian) of the ASCII prefix `pk_{env}_` and those 28 bytes, the 32 bytes written
// as 43 base64url characters. A typo or an invented key fails it before any lookup, and secret
// scanners can tell a real key from a look-alike. CRC-32 is not a secret and proves nothing
// about a key's validity: it only catches what cannot be one. node:zlib's crc32 (Node >= 20.15,
// and Keyward needs >= 20.19) is a C implementation: no package needed.
import { crc32 } from "node:zlib";
import { KEY_LENGTH, KEY_PREFIX_LENGTH, type KeyPrefix } from "./format";

/** Random bytes in a checksummed token: 224 bits, then 4 bytes of CRC-32. */
export const KEY_RANDOM_BYTES = 28;
const TOKEN_BYTES = KEY_RANDOM_BYTES + 4;

// base64url character -> its 6 bits, 255 for anything else.
const SEXTET = new Uint8Array(128).fill(255);
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
for (let i = 0; i < 64; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;

// One scratch buffer for the check: the prefix's 8 bytes, then the token's 32 decoded bytes. The
// check is synchronous, so sharing it is safe; it saves verify's refusal path an allocation.
const scratch = Buffer.alloc(KEY_PREFIX_LENGTH + TOKEN_BYTES);

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
 * True when `key` is in the key format and its token's checksum holds. Pure and cheap (one pass
 * over the 43 characters, which also checks them, and one CRC over 36 bytes, about 0.3 us);
 * never throws on untrusted input.
 */
export function hasValidChecksum(key: unknown): key is string {
  if (typeof key !== "string" || key.length !== KEY_LENGTH) return false;
  if (!key.startsWith("pk_live_") && !key.startsWith("pk_test_")) return false;
  for (let i = 0; i < KEY_PREFIX_LENGTH; i++) scratch[i] = key.charCodeAt(i);
  // Decode the 43 characters (258 bits) into 32 bytes; the last character's two low bits must be
  // zero, or two spellings would decode alike and a changed last character could still pass.
  let acc = 0;
  let bits = 0;
  let out = KEY_PREFIX_LENGTH;
  for (let i = KEY_PREFIX_LENGTH; i < KEY_LENGTH; i++) {
    const c = key.charCodeAt(i);
    const v = c < 128 ? SEXTET[c]! : 255;
    if (v === 255) return false;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      scratch[out++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return false;
  const end = KEY_PREFIX_LENGTH + KEY_RANDOM_BYTES;
  return scratch.readUInt32BE(end) === crc32(scratch.subarray(0, end)) >>> 0;
}
