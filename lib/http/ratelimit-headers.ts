// RateLimit-* headers from a limiter result: Reset and Retry-After in whole seconds from now.
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
  if (!r.allowed) h["retry-after"] = String(Math.max(1, Math.ceil(r.retryAfterMs / 1000)));
  return h;
}
