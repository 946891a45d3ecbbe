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

/** An admitted (or refused) hit, with the fixed window it was counted in, so it can be released. */
export interface Reservation extends RateLimitResult {
  /** Unix ms start of the fixed window the hit was counted in (store's clock). */
  windowStart: number;
}

export interface RateLimitStore {
  /** Counts `cost` (default 1) against `key` when it fits in `limit` per sliding `windowMs`. */
  hit(key: string, limit: number, windowMs: number, cost?: number): Promise<RateLimitResult>;
  /** The state a hit of `cost` would see, without counting anything. */
  peek?(key: string, limit: number, windowMs: number, cost?: number): Promise<RateLimitResult>;
  /**
   * A hit that takes a slot only if one is free, atomically (concurrent reservations never
   * exceed `limit`), and says which fixed window it was counted in.
   */
  reserve(key: string, limit: number, windowMs: number, cost?: number): Promise<Reservation>;
  /**
   * Gives back `cost` counted by an admitted reservation in the fixed window `windowStart`
   * (a refund: e.g. a sign-in that succeeded). Atomic; never below zero; a window too old to
   * count any more is left alone.
   */
  release(key: string, windowStart: number, windowMs: number, cost?: number): Promise<void>;
  /** Forgets everything counted for `key`. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/** A clock in unix ms; stores take one so tests can move time without sleeping. */
export type Clock = () => number;

export type RateLimitStoreKind = "memory" | "postgres" | "redis";
