// Text a client sends, checked against what PostgreSQL can store: `text` refuses NUL, and an
// unpaired UTF-16 surrogate cannot be encoded as UTF-8, so either one would fail at write time
// (and, in a metering batch, fail every other tenant's events in it). Every string field that
// reaches the database is built from `safeText` or passes `isStorableText`; nothing else
// defines these rules.
import { z } from "./zod";

// Every C0 control and DEL (single-line text); the same less tab, line feed and carriage return
// (multi-line text). NUL is in both.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL_RE = /[\u0000-\u001F\u007F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL_MULTILINE_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL alone
const NUL_RE = /\u0000/;

export const UNSAFE_TEXT_MESSAGE =
  "Must not contain NUL, control characters or unpaired surrogates.";

// The same rules as JSON Schema patterns, for the OpenAPI document (unpaired surrogates cannot be
// written in a pattern; the description in docs/api.md says so).
export const CLEAN_TEXT_PATTERN = "^[^\\u0000-\\u001F\\u007F]*$";
export const CLEAN_MULTILINE_TEXT_PATTERN =
  "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$";

/** True when PostgreSQL can store `s` in a text column (no NUL, well-formed UTF-16). */
export function isStorableText(s: string): boolean {
  return !NUL_RE.test(s) && s.isWellFormed();
}

/** True for text without control characters (names, reasons, queries, headers); `multiline` allows tab and line breaks. */
export function isCleanText(s: string, multiline = false): boolean {
  return !(multiline ? CONTROL_MULTILINE_RE : CONTROL_RE).test(s) && s.isWellFormed();
}

/** `s` made storable: NUL and unpaired surrogates replaced by U+FFFD (for values we record, like a user agent). */
export function toStorableText(s: string): string {
  return s.replaceAll("\u0000", "\uFFFD").toWellFormed();
}

export interface SafeTextOptions {
  min?: number;
  max: number;
  /** Keep line breaks and tabs (free text such as descriptions); default false. */
  multiline?: boolean;
  /** Trim surrounding white space before the length checks; default true. */
  trim?: boolean;
  /** Messages for people (dashboard forms, CLI) when too short or too long; zod's otherwise. */
  messages?: { min?: string; max?: string };
}

/**
 * A string field with length bounds that PostgreSQL can store, refusing control characters. The
 * bounds and the pattern show in the OpenAPI document.
 */
export function safeText({
  min = 0,
  max,
  multiline = false,
  trim = true,
  messages,
}: SafeTextOptions) {
  const base = trim ? z.string().trim() : z.string();
  const bounded = (min > 0 ? base.min(min, messages?.min) : base).max(max, messages?.max);
  return bounded
    .refine((s) => isCleanText(s, multiline), UNSAFE_TEXT_MESSAGE)
    .openapi({ pattern: multiline ? CLEAN_MULTILINE_TEXT_PATTERN : CLEAN_TEXT_PATTERN });
}
