// The API's log: one JSON line per event on stdout. Headers, bodies and URLs with query strings
// are never logged, so a key cannot reach the log through them; redact is a second fence.
import pino from "pino";
import { config } from "@/lib/config";

const KEY = Symbol.for("keyward.httpLogger");

export type Logger = pino.Logger;

export function getLogger(): Logger {
  const g = globalThis as unknown as Record<symbol, Logger | undefined>;
  g[KEY] ??= pino({
    level: config().LOG_LEVEL,
    base: undefined,
    redact: {
      paths: ["key", "*.key", "authorization", "*.authorization", "headers", "*.headers", "body"],
      censor: "[redacted]",
    },
  });
  return g[KEY];
}

/** Replaces anything that looks like a key in free text (e.g. an error message) before logging. */
export function scrubKeys(text: string): string {
  return text.replace(/pk_(live|test)_[A-Za-z0-9_-]{4,}/g, "pk_$1_[redacted]");
}
