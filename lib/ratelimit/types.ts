// The one interface every rate-limit store implements (memory, PostgreSQL, Redis).

export interface RateLimitResult {
  /** Whether this hit was admitted. A denied hit consumes nothing. */
  allowed: boolean;
  limit: number;
  /** Whole hits still admissible right now, after this one. */
  remaining: number;
  /**
   * Unix ms when a slot frees: when denied, when a hit of this cost would be admitted
   * (now + retryAfterMs); when allowed, when `remaining` next goes up by one.
   */
  reset: number;
  /** 0 when allowed; otherwise ms to wait before the same hit would be admitted. */
  retryAfterMs: number;
}

export interface RateLimitStore {
  /** Counts `cost` (default 1) against `key` when it fits in `limit` per sliding `windowMs`. */
  hit(key: string, limit: number, windowMs: number, cost?: number): Promise<RateLimitResult>;
  /** The state a hit of `cost` would see, without counting anything. */
  peek?(key: string, limit: number, windowMs: number, cost?: number): Promise<RateLimitResult>;
  /** Forgets everything counted for `key`. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/** A clock in unix ms; stores take one so tests can move time without sleeping. */
export type Clock = () => number;

export type RateLimitStoreKind = "memory" | "postgres" | "redis";
