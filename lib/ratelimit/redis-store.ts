// Redis rate-limit store, for several instances: one Lua script per hit, so the
// read-decide-write is atomic on the server and costs one round trip (EVALSHA; EVAL
// once when the server does not have the script yet, e.g. after a restart).
// Each key is one small hash {s: window start, w: window ms, p: previous, c: current}
// that expires two windows after its window began, so memory stays bounded.
// The time comes from the application's clock (passed in), not Redis's TIME: tests
// can move it, and instances' clocks only need to agree to within a window.

import { createHash } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { breakerFor, redisCommandTimeoutMs } from "./redis-breaker";
import { toResult, validateHit, windowStartOf } from "./sliding-window";
import type { Clock, RateLimitResult, RateLimitStore, Reservation } from "./types";

// The sliding-window step as a Lua function, shared by this store's script and the verify
// path's combined script (redis-key-request.ts), so both run exactly the same rule:
// sliding-window.ts's admits(). Arguments are strings (ARGV); returns allowed, prev, curr
// (curr after the hit when it was counted).
export const SLIDING_WINDOW_FN = `
local function sliding_window(key, now_s, start_s, w_s, limit_s, cost_s, commit)
  local now = tonumber(now_s)
  local start = tonumber(start_s)
  local w = tonumber(w_s)
  local limit = tonumber(limit_s)
  local cost = tonumber(cost_s)
  local h = redis.call("HMGET", key, "s", "w", "p", "c")
  local prev, curr = 0, 0
  if h[1] and tonumber(h[2]) == w then
    local s = tonumber(h[1])
    if s == start then
      prev = tonumber(h[3])
      curr = tonumber(h[4])
    elseif s == start - w then
      prev = tonumber(h[4])
    end
  end
  local allowed = prev * (w - (now - start)) + (curr + cost) * w <= limit * w
  if allowed and commit == "1" then
    curr = curr + cost
    redis.call("HSET", key, "s", start_s, "w", w_s, "p", prev, "c", curr)
    redis.call("PEXPIRE", key, math.max(1, start + 2 * w - now) + 1000)
  end
  return allowed, prev, curr
end
`;

// KEYS[1] hash; ARGV: now, window start, window ms, limit, cost, commit (1 hit, 0 peek).
// Returns {allowed, prev, curr}. Each key is one small hash {s: window start, w: window ms,
// p: previous, c: current} that expires two windows after its window began.
export const SLIDING_WINDOW_LUA = `${SLIDING_WINDOW_FN}
local allowed, prev, curr = sliding_window(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return {allowed and 1 or 0, prev, curr}
`;

export interface LuaScript {
  lua: string;
  sha: string;
}

export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

const SLIDING_WINDOW = luaScript(SLIDING_WINDOW_LUA);

// KEYS[1] hash; ARGV: window start of the reservation, window ms, cost. Gives the cost back to
// the window it was counted in: "c" while that window is the hash's current one, "p" once the
// next window has begun; older windows no longer count, so nothing is changed. Never below 0.
const RELEASE = luaScript(`
local h = redis.call("HMGET", KEYS[1], "s", "w", "p", "c")
if not h[1] or tonumber(h[2]) ~= tonumber(ARGV[2]) then return 0 end
local s = tonumber(h[1])
local start = tonumber(ARGV[1])
local cost = tonumber(ARGV[3])
if s == start then
  redis.call("HSET", KEYS[1], "c", math.max(0, tonumber(h[4]) - cost))
  return 1
elseif s == start + tonumber(ARGV[2]) then
  redis.call("HSET", KEYS[1], "p", math.max(0, tonumber(h[3]) - cost))
  return 1
end
return 0
`);

/**
 * EVALSHA, and EVAL only when the server does not know the script (NOSCRIPT); through the
 * connection's circuit breaker (redis-breaker.ts), so an outage fails at once.
 */
export function runScript(
  redis: Redis,
  script: LuaScript,
  keys: string | readonly string[],
  args: (string | number)[],
): Promise<unknown> {
  const k = typeof keys === "string" ? [keys] : keys;
  return breakerFor(redis).run(async () => {
    try {
      return await redis.evalsha(script.sha, k.length, ...k, ...args);
    } catch (e) {
      if (!String((e as Error).message).includes("NOSCRIPT")) throw e;
      return redis.eval(script.lua, k.length, ...k, ...args);
    }
  });
}

export interface RedisStoreOptions {
  /** A connection to use (not closed by the store), or a URL to open one (closed by it). */
  redis?: Redis;
  url?: string;
  /** Prefix of every key this store writes (default "kw:rl:"). */
  prefix?: string;
  now?: Clock;
  /** Per-command timeout for a connection the store opens (default REDIS_COMMAND_TIMEOUT_MS, 100). */
  commandTimeoutMs?: number;
}

/**
 * Connection options that fail fast instead of queueing while Redis is unreachable. The command
 * timeout bounds what one verify can wait on Redis (verify must answer within 100 ms during an
 * outage, PRODUCT.md section 8); the breaker (redis-breaker.ts) stops even that wait once Redis
 * is known to be down. Reconnects are retried at most a second apart, so a restarted Redis is
 * used again within about a second.
 */
export function fastFailRedisOptions(commandTimeoutMs = redisCommandTimeoutMs()): RedisOptions {
  return {
    // Commands issued in one turn of the event loop (the verifies of every request that arrived
    // together) go out in one write: under load a socket write per verify, waking Redis each
    // time, cost about a sixth of the lean lane's CPU (bench/verify-bench.ts --cpu-prof).
    enableAutoPipelining: true,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
  };
}

/**
 * A connection with fastFailRedisOptions. Until it is first ready, commands wait for the
 * connection (up to connectTimeout), not the short command timeout: the first verifies after a
 * start must not fall back only because the connection was still being set up.
 */
export function openFastFailRedis(url: string, commandTimeoutMs = redisCommandTimeoutMs()): Redis {
  const options = fastFailRedisOptions(commandTimeoutMs);
  const redis = new Redis(url, { ...options, commandTimeout: options.connectTimeout });
  redis.once("ready", () => {
    redis.options.commandTimeout = commandTimeoutMs;
  });
  // Errors surface on each command (and are handled by the caller's fail mode); without a
  // listener ioredis would print every reconnect failure.
  redis.on("error", () => {});
  return redis;
}

/** The connection a Redis-backed counter uses: the one given (not closed by it), or its own. */
export function redisOf(
  options: { redis?: Redis; url?: string },
  what: string,
): { redis: Redis; owned: boolean } {
  if (options.redis) return { redis: options.redis, owned: false };
  if (!options.url) throw new Error(`${what} needs \`redis\` or \`url\``);
  return { redis: openFastFailRedis(options.url), owned: true };
}

/** A counter kept in Redis under `prefix`: the connection (closed only when its own) and a clock. */
export abstract class RedisCounter {
  readonly redis: Redis;
  protected readonly owned: boolean;
  protected readonly prefix: string;
  protected readonly now: Clock;

  constructor(
    options: { redis?: Redis; url?: string; prefix?: string; now?: Clock },
    what: string,
    defaultPrefix: string,
  ) {
    ({ redis: this.redis, owned: this.owned } = redisOf(options, what));
    this.prefix = options.prefix ?? defaultPrefix;
    this.now = options.now ?? Date.now;
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly now: Clock;

  constructor(options: RedisStoreOptions) {
    if (options.redis) {
      this.redis = options.redis;
      this.owned = false;
    } else {
      if (!options.url) throw new Error("RedisRateLimitStore needs `redis` or `url`");
      this.redis = openFastFailRedis(options.url, options.commandTimeoutMs);
      this.owned = true;
    }
    this.prefix = options.prefix ?? "kw:rl:";
    this.now = options.now ?? Date.now;
  }

  async hit(key: string, limit: number, windowMs: number, cost = 1): Promise<RateLimitResult> {
    return (await this.run(key, limit, windowMs, cost, true)).result;
  }

  async reserve(key: string, limit: number, windowMs: number, cost = 1): Promise<Reservation> {
    const { result, windowStart } = await this.run(key, limit, windowMs, cost, true);
    return { ...result, windowStart };
  }

  async release(key: string, windowStart: number, windowMs: number, cost = 1): Promise<void> {
    validateHit(0, windowMs, cost);
    await runScript(this.redis, RELEASE, this.prefix + key, [windowStart, windowMs, cost]);
  }

  async peek(key: string, limit: number, windowMs: number, cost = 1): Promise<RateLimitResult> {
    return (await this.run(key, limit, windowMs, cost, false)).result;
  }

  async reset(key: string): Promise<void> {
    await breakerFor(this.redis).run(() => this.redis.del(this.prefix + key));
  }

  /** The Redis key holding `key`'s counters. */
  redisKey(key: string): string {
    return this.prefix + key;
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async run(
    key: string,
    limit: number,
    windowMs: number,
    cost: number,
    commit: boolean,
  ): Promise<{ result: RateLimitResult; windowStart: number }> {
    validateHit(limit, windowMs, cost);
    const now = this.now();
    const start = windowStartOf(now, windowMs);
    const args = [now, start, windowMs, limit, cost, commit ? 1 : 0];
    const reply = await runScript(this.redis, SLIDING_WINDOW, this.prefix + key, args);
    const [allowed, prev, curr] = reply as [number, number, number];
    const result = toResult({ prev, curr }, allowed === 1, now, windowMs, limit, cost);
    return { result, windowStart: start };
  }
}
