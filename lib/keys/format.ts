// Key format: `pk_{live|test}_{43 base64url chars}`. Pure string functions; they never throw
// on untrusted input and answer null (or false) for anything that is not a well-formed key.

export type KeyEnvironment = "live" | "test";
export type KeyPrefix = "pk_live_" | "pk_test_";

export const KEY_TOKEN_LENGTH = 43;
export const KEY_PREFIX_LENGTH = 8;
export const KEY_LENGTH = KEY_PREFIX_LENGTH + KEY_TOKEN_LENGTH; // 51
export const KEY_HINT_LENGTH = 4;

/** The whole key, anchored; `[A-Za-z0-9_-]` only, so whitespace and unicode never match. */
export const KEY_PATTERN = /^pk_(live|test)_[A-Za-z0-9_-]{43}$/;

/** True only for a string in the exact key format. Checked before any database work. */
export function isValidKeyFormat(key: unknown): key is string {
  // The length check first keeps a huge string from reaching the regex at all.
  return typeof key === "string" && key.length === KEY_LENGTH && KEY_PATTERN.test(key);
}

/** Accepts `live`/`test` in either case (the database enum is `LIVE`/`TEST`). Throws otherwise. */
export function normalizeEnvironment(environment: unknown): KeyEnvironment {
  if (typeof environment === "string") {
    const lower = environment.toLowerCase();
    if (lower === "live" || lower === "test") return lower;
  }
  throw new TypeError(`Unknown key environment: expected "live" or "test"`);
}

/** The database enum value for an environment: `LIVE` or `TEST`. */
export function toDbEnvironment(environment: KeyEnvironment | "LIVE" | "TEST"): "LIVE" | "TEST" {
  return normalizeEnvironment(environment) === "live" ? "LIVE" : "TEST";
}
