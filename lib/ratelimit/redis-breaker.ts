// A circuit breaker per Redis connection, so a Redis outage costs verify nothing: while the
// breaker is open every command fails at once (the caller's fail mode decides what that means,
// policies.ts), instead of each verify waiting out a command timeout or piling up in ioredis's
// offline queue.
//
// - closed: commands run, each bounded by the connection's command timeout
//   (REDIS_COMMAND_TIMEOUT_MS). `failureThreshold` failures in a row open it.
// - open: commands fail immediately. The connection dropping ("close", "reconnecting", "end")
//   opens it at once: Redis being killed never costs a timeout.
// - half-open: after `openMs`, and only once ioredis reports the connection ready again (it
//   keeps reconnecting in the background), one command goes through as a probe; its success
//   closes the breaker, its failure opens it again. ioredis's "ready" after a reconnect moves
//   an open breaker straight to half-open, so a restarted Redis is used again within a command.
// Errors Redis itself answered (ReplyError: a script error, a wrong type) prove it is up and do
// not count.
import { type Redis, ReplyError } from "ioredis";
import { config } from "@/lib/config";

export type BreakerState = "closed" | "open" | "half-open";

export class RedisUnavailableError extends Error {
  constructor(message = "Redis is unavailable (circuit open)") {
    super(message);
    this.name = "RedisUnavailableError";
  }
}

export interface BreakerOptions {
  /** Failures in a row (timeouts, connection errors) that open the breaker (default 3). */
  failureThreshold?: number;
  /** How long an open breaker refuses before it lets a probe through (default 1 s). */
  openMs?: number;
  now?: () => number;
}

export class RedisBreaker {
  private state: BreakerState = "closed";
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    options: BreakerOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? 3;
    this.openMs = options.openMs ?? 1_000;
    this.now = options.now ?? Date.now;
    const lost = () => this.trip();
    redis.on("close", lost);
    redis.on("reconnecting", lost);
    redis.on("end", lost);
    redis.on("ready", () => {
      if (this.state === "open") this.state = "half-open";
    });
  }

  /** "open" also while half-open with a probe in flight or the connection not ready. */
  get current(): BreakerState {
    if (this.state === "open" && this.now() - this.openedAt >= this.openMs) return "half-open";
    return this.state;
  }

  /** Whether a command would be sent now (for health: "ok" needs this and a ready connection). */
  get available(): boolean {
    return this.state === "closed" && this.redis.status === "ready";
  }

  async run<T>(command: () => Promise<T>): Promise<T> {
    const state = this.current;
    let probe = false;
    if (state !== "closed") {
      // One probe at a time, and only over a connection that is up: a command queued on a
      // reconnecting connection would wait out the timeout for nothing.
      if (this.probing || this.redis.status !== "ready") throw new RedisUnavailableError();
      this.probing = true;
      probe = true;
    }
    try {
      const result = await command();
      this.failures = 0;
      this.state = "closed";
      return result;
    } catch (e) {
      if (e instanceof ReplyError && !String((e as Error).message).startsWith("NOSCRIPT")) {
        // Redis answered: it is up.
        this.failures = 0;
        if (probe) this.state = "closed";
        throw e;
      }
      if (probe || ++this.failures >= this.threshold) this.trip();
      throw e;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private trip(): void {
    // Repeated reconnect attempts while open do not push the next probe further out.
    if (this.state !== "open") this.openedAt = this.now();
    this.state = "open";
    this.failures = 0;
  }
}

const breakers = new WeakMap<Redis, RedisBreaker>();

/** The breaker of a connection (one per connection, created on first use). */
export function breakerFor(redis: Redis, options?: BreakerOptions): RedisBreaker {
  let b = breakers.get(redis);
  if (!b) {
    b = new RedisBreaker(redis, options);
    breakers.set(redis, b);
  }
  return b;
}

/**
 * REDIS_COMMAND_TIMEOUT_MS (default 100): the longest a verify waits on one Redis command. 50 ms
 * tripped on healthy Redis here when the event loop stalled under heavy machine load.
 */
export function redisCommandTimeoutMs(): number {
  return config().REDIS_COMMAND_TIMEOUT_MS;
}
