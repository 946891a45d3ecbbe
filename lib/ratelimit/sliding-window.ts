// The sliding-window counter every store shares: the admission rule (which the SQL
// and Lua versions repeat exactly) and how remaining/reset/retry-after are derived.
//
// Why a sliding-window counter (previous and current fixed window, the previous one
// weighted by how much of it still overlaps the sliding window, as Cloudflare and
// Upstash do) and not a sliding log: it needs O(1) state per key (two counters), so
// memory is bounded whatever the limit (ENTERPRISE allows 10,000 per minute per key;
// a log would hold 10,000 timestamps per key), PostgreSQL needs one row per key per
// window (which is what RateLimitTracking is), and Redis one small hash per key. Its
// error is bounded and conservative in practice: it assumes the previous window's
// hits were spread evenly; it never admits more than `limit` within one fixed window.
//
// Arithmetic is in integers: admitted iff prev*(W-elapsed) + (curr+cost)*W <= limit*W,
// so JavaScript, Lua (doubles) and SQL (bigint) agree to the millisecond. Products
// stay far below 2^53 for any sane limit and window.

import type { RateLimitResult } from "./types";

export interface WindowState {
  /** Hits counted in the previous fixed window. */
  prev: number;
  /** Hits counted in the current fixed window (after this hit, when admitted). */
  curr: number;
}

export function windowStartOf(now: number, windowMs: number): number {
  return Math.floor(now / windowMs) * windowMs;
}

export function admits(
  prev: number,
  curr: number,
  elapsed: number,
  windowMs: number,
  limit: number,
  cost: number,
): boolean {
  return prev * (windowMs - elapsed) + (curr + cost) * windowMs <= limit * windowMs;
}

export function validateHit(limit: number, windowMs: number, cost: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError("limit must be an integer >= 0");
  if (!Number.isInteger(windowMs) || windowMs < 1) {
    throw new RangeError("windowMs must be an integer >= 1");
  }
  if (!Number.isInteger(cost) || cost < 1) throw new RangeError("cost must be an integer >= 1");
}

/**
 * Milliseconds from now until `need` more hits fit, or null when they never can
 * (need > limit). `elapsed` is the time since the current fixed window began.
 */
export function msUntilFits(
  state: WindowState,
  elapsed: number,
  windowMs: number,
  limit: number,
  need: number,
): number | null {
  if (need > limit) return null;
  const { prev, curr } = state;
  // Still inside the current window: the previous window's weight decays linearly.
  if (curr + need <= limit) {
    if (admits(prev, curr, elapsed, windowMs, limit, need)) return 0;
    // prev > 0 here: solve prev*(W-e) <= (limit-curr-need)*W for e, then step over rounding.
    let e = Math.ceil(windowMs - ((limit - curr - need) * windowMs) / prev);
    e = Math.max(e, elapsed);
    while (e < windowMs && !admits(prev, curr, e, windowMs, limit, need)) e++;
    if (e < windowMs) return e - elapsed;
  }
  // Next window: the current count becomes the decaying previous one, the new one is empty.
  const toNext = windowMs - elapsed;
  if (curr === 0) return toNext;
  let e = Math.max(0, Math.ceil(windowMs - ((limit - need) * windowMs) / curr));
  while (e < windowMs && !admits(curr, 0, e, windowMs, limit, need)) e++;
  return toNext + e; // e === windowMs: the window after next, where nothing is left
}

/** Builds the public result from the counters a store saw (after its hit, if admitted). */
export function toResult(
  state: WindowState,
  allowed: boolean,
  now: number,
  windowMs: number,
  limit: number,
  cost: number,
): RateLimitResult {
  const elapsed = now - windowStartOf(now, windowMs);
  const used = state.prev * (windowMs - elapsed) + state.curr * windowMs;
  const remaining = Math.max(0, Math.floor((limit * windowMs - used) / windowMs));
  if (allowed) {
    const wait = msUntilFits(state, elapsed, windowMs, limit, remaining + 1);
    return { allowed, limit, remaining, reset: now + (wait ?? 0), retryAfterMs: 0 };
  }
  // A cost above the limit never fits: report the time until everything has drained.
  const wait = msUntilFits(state, elapsed, windowMs, limit, cost) ?? 2 * windowMs - elapsed;
  return { allowed, limit, remaining, reset: now + wait, retryAfterMs: wait };
}
