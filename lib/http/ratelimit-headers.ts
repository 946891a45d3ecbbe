// The one place RateLimit-* headers are built (the IETF draft's names, lowercase as every
// HttpResult header is) and described for the OpenAPI document: Limit, Remaining, Reset (whole
// seconds from now until a slot frees) and, when denied, Retry-After (whole seconds, at least 1).
import { retryAfterSeconds } from "@/lib/ratelimit/policies";
import type { RateLimitResult } from "@/lib/ratelimit/types";

export function secondsUntil(unixMs: number, now: number): number {
  return Math.max(0, Math.ceil((unixMs - now) / 1000));
}

export function rateLimitHeaders(r: RateLimitResult, now: number): Record<string, string> {
  const h: Record<string, string> = {
    "ratelimit-limit": String(r.limit),
    "ratelimit-remaining": String(Math.max(0, r.remaining)),
    "ratelimit-reset": String(secondsUntil(r.reset, now)),
  };
  if (!r.allowed) h["retry-after"] = String(retryAfterSeconds(r));
  return h;
}

const integer = { type: "integer" as const, minimum: 0 };

/** The headers rateLimitHeaders sets, as the OpenAPI document describes them. */
export const RATE_LIMIT_HEADER_DOCS = {
  "RateLimit-Limit": { description: "Requests allowed per minute for this key.", schema: integer },
  "RateLimit-Remaining": { description: "Requests left in the window.", schema: integer },
  "RateLimit-Reset": { description: "Seconds until a request is freed.", schema: integer },
};

/** Retry-After as the OpenAPI document describes it (on 429 and 503 answers). */
export const RETRY_AFTER_HEADER_DOC = {
  "Retry-After": { description: "Seconds to wait before retrying.", schema: integer },
};
