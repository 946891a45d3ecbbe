// Key format: `pk_{live|test}_{43 base64url chars}`. Pure string functions; they never throw
// on untrusted input and answer null (or false) for anything that is not a well-formed key.

export type KeyEnvironment = "live" | "test";
export type KeyPrefix = "pk_live_" | "pk_test_";

export const KEY_ENVIRONMENTS: readonly KeyEnvironment[] = ["live", "test"];
export const KEY_TOKEN_BYTES = 32;
export const KEY_TOKEN_LENGTH = 43;
export const KEY_PREFIX_LENGTH = 8;
export const KEY_LENGTH = KEY_PREFIX_LENGTH + KEY_TOKEN_LENGTH; // 51
export const KEY_HINT_LENGTH = 4;

/** The whole key, anchored; `[A-Za-z0-9_-]` only, so whitespace and unicode never match. */
export const KEY_PATTERN = /^pk_(live|test)_[A-Za-z0-9_-]{43}$/;

export interface ParsedKey {
  environment: KeyEnvironment;
  prefix: KeyPrefix;
  token: string;
  hint: string;
}

/** True only for a string in the exact key format. Checked before any database work. */
export function isValidKeyFormat(key: unknown): key is string {
  // The length check first keeps a huge string from reaching the regex at all.
  return typeof key === "string" && key.length === KEY_LENGTH && KEY_PATTERN.test(key);
}

/** Splits a well-formed key into its parts; null for anything else. */
export function parseKey(key: unknown): ParsedKey | null {
  if (!isValidKeyFormat(key)) return null;
  const environment = key.slice(3, 7) as KeyEnvironment;
  return {
    environment,
    prefix: `pk_${environment}_`,
    token: key.slice(KEY_PREFIX_LENGTH),
    hint: key.slice(-KEY_HINT_LENGTH),
  };
}

/** `live` or `test` for a well-formed key; null otherwise. */
export function extractEnvironment(key: unknown): KeyEnvironment | null {
  return parseKey(key)?.environment ?? null;
}

/** `pk_live_` or `pk_test_` for a well-formed key; null otherwise. */
export function extractPrefix(key: unknown): KeyPrefix | null {
  return parseKey(key)?.prefix ?? null;
}

/** The last four characters of a well-formed key (what the dashboard shows); null otherwise. */
export function keyHint(key: unknown): string | null {
  return parseKey(key)?.hint ?? null;
}

/** The prefix of keys for an environment. Throws on anything but `live`/`test` (either case). */
export function prefixFor(environment: string): KeyPrefix {
  return `pk_${normalizeEnvironment(environment)}_`;
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

/** What is shown after creation: prefix, an ellipsis, the hint, e.g. `pk_live_…x9Q_`. */
export function displayKey(prefix: string, hint: string): string {
  return `${prefix}…${hint}`;
}

/** The display form of a whole key; null when the key is not well formed. */
export function maskKey(key: unknown): string | null {
  const parsed = parseKey(key);
  return parsed ? displayKey(parsed.prefix, parsed.hint) : null;
}
