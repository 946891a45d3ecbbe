// In-process rate-limit store: the embedded default, exact for one instance.
// Memory is bounded twice: entries expire two windows after their last window began
// (swept at most once per sweep interval), and at most `maxKeys` entries are kept,
// least recently used evicted first (an evicted key starts afresh, which errs open).

import { admits, toResult, validateHit, windowStartOf } from "./sliding-window";
import type { Clock, RateLimitResult, RateLimitStore, Reservation } from "./types";

interface Entry {
  windowMs: number;
  /** Start of the fixed window `curr` counts. */
  start: number;
  prev: number;
  curr: number;
}

export interface MemoryStoreOptions {
  now?: Clock;
  /** Upper bound on tracked keys (default 100,000, about 10 MB). */
  maxKeys?: number;
  /** How often expired entries are swept, in ms of the store's clock (default 60 s). */
  sweepIntervalMs?: number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly entries = new Map<string, Entry>();
  private readonly now: Clock;
  private readonly maxKeys: number;
  private readonly sweepIntervalMs: number;
  private lastSweep: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.lastSweep = this.now();
  }

  /** Number of keys currently held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  async hit(key: string, limit: number, windowMs: number, cost = 1): Promise<RateLimitResult> {
    return this.hitSync(key, limit, windowMs, cost);
  }

  /** Synchronous form, for callers that want no microtask (and for fallbacks). */
  hitSync(key: string, limit: number, windowMs: number, cost = 1): RateLimitResult {
    return this.reserveSync(key, limit, windowMs, cost).result;
  }

  async reserve(key: string, limit: number, windowMs: number, cost = 1): Promise<Reservation> {
    const { result, windowStart } = this.reserveSync(key, limit, windowMs, cost);
    return { ...result, windowStart };
  }

  async release(key: string, windowStart: number, windowMs: number, cost = 1): Promise<void> {
    validateHit(0, windowMs, cost);
    const entry = this.entries.get(key);
    if (!entry || entry.windowMs !== windowMs) return;
    if (entry.start === windowStart) entry.curr = Math.max(0, entry.curr - cost);
    else if (entry.start === windowStart + windowMs) entry.prev = Math.max(0, entry.prev - cost);
  }

  /** One synchronous step, so nothing can interleave between the decision and the count. */
  private reserveSync(key: string, limit: number, windowMs: number, cost: number) {
    validateHit(limit, windowMs, cost);
    const now = this.now();
    this.maybeSweep(now);
    const start = windowStartOf(now, windowMs);
    const { prev, curr } = this.roll(this.entries.get(key), start, windowMs);
    const allowed = admits(prev, curr, now - start, windowMs, limit, cost);
    const after = allowed ? curr + cost : curr;
    if (allowed) {
      this.entries.delete(key); // re-insert: Map order doubles as the LRU order
      this.entries.set(key, { windowMs, start, prev, curr: after });
      if (this.entries.size > this.maxKeys) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    return {
      result: toResult({ prev, curr: after }, allowed, now, windowMs, limit, cost),
      windowStart: start,
    };
  }

  async peek(key: string, limit: number, windowMs: number, cost = 1): Promise<RateLimitResult> {
    validateHit(limit, windowMs, cost);
    const now = this.now();
    const start = windowStartOf(now, windowMs);
    const state = this.roll(this.entries.get(key), start, windowMs);
    const allowed = admits(state.prev, state.curr, now - start, windowMs, limit, cost);
    return toResult(state, allowed, now, windowMs, limit, cost);
  }

  async reset(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  /** The counters as seen from the fixed window starting at `start`. */
  private roll(entry: Entry | undefined, start: number, windowMs: number) {
    if (!entry || entry.windowMs !== windowMs) return { prev: 0, curr: 0 };
    if (entry.start === start) return { prev: entry.prev, curr: entry.curr };
    if (entry.start === start - windowMs) return { prev: entry.curr, curr: 0 };
    return { prev: 0, curr: 0 };
  }

  private maybeSweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    for (const [key, e] of this.entries) {
      if (e.start + 2 * e.windowMs <= now) this.entries.delete(key);
    }
  }
}
