// Chooses the rate-limit store and quota counter for the process, by configuration:
// RATE_LIMIT_STORE=memory|postgres|redis; without it, redis when REDIS_URL is set,
// else memory (the embedded default: one instance, nothing to run).

import type { Redis } from "ioredis";
import { config } from "@/lib/config";
import { getDb, type Tx } from "@/lib/db";
import { onShutdown } from "@/lib/lifecycle";
import {
  type CreditStore,
  MemoryCreditStore,
  PostgresCreditStore,
  RedisCreditStore,
} from "./credits";
import { WriteBehindCreditStore } from "./credits-write-behind";
import { MemoryRateLimitStore } from "./memory-store";
import { PostgresRateLimitStore } from "./postgres-store";
import {
  MemoryQuotaCounter,
  PostgresQuotaCounter,
  type QuotaCounter,
  RedisQuotaCounter,
} from "./quota";
import { breakerFor } from "./redis-breaker";
import {
  type KeyRequest,
  type KeyRequestResult,
  RedisKeyRequestLimiter,
} from "./redis-key-request";
import { RedisRateLimitStore } from "./redis-store";
import { SpendCounter } from "./spend";
import type { Clock, RateLimitStore, RateLimitStoreKind } from "./types";

export type { CreditStore } from "./credits";
export type { QuotaCounter } from "./quota";
export type { KeyRequest, KeyRequestResult } from "./redis-key-request";
export type { Clock, RateLimitStore, RateLimitStoreKind } from "./types";

export type RateLimitConfig =
  | {
      kind: "memory";
      now?: Clock;
      /** Where the monthly quota is counted: the database (survives restarts; the default
       * from the environment) or memory (tests with no database). */
      quota?: "database" | "memory";
      db?: Tx | (() => Promise<Tx>);
      /**
       * With the quota in the database: keep credit balances in this process and write them
       * behind every this many ms (the embedded database, which one process owns;
       * credits-write-behind.ts). Unset: every spend is written before it answers.
       */
      creditsFlushMs?: number;
    }
  | { kind: "postgres"; db?: Tx | (() => Promise<Tx>); now?: Clock }
  | {
      kind: "redis";
      url?: string;
      redis?: Redis;
      prefix?: string;
      now?: Clock;
      /** Where the spend caps' recount reads the rollups (default getDb). */
      db?: Tx | (() => Promise<Tx>);
    };

/**
 * Reads RATE_LIMIT_STORE / REDIS_URL (and DATABASE_URL, KEYWARD_CREDITS_FLUSH_MS for where the
 * memory store's credits are written); throws on an unknown store name.
 */
export function rateLimitConfigFromEnv(
  env: Record<string, string | undefined> = {
    RATE_LIMIT_STORE: config().RATE_LIMIT_STORE,
    REDIS_URL: config().REDIS_URL,
    DATABASE_URL: config().DATABASE_URL,
    KEYWARD_CREDITS_FLUSH_MS: String(config().KEYWARD_CREDITS_FLUSH_MS),
  },
): RateLimitConfig {
  const chosen = env.RATE_LIMIT_STORE?.trim().toLowerCase() || (env.REDIS_URL ? "redis" : "memory");
  switch (chosen) {
    case "memory": {
      // The embedded default: counters in process, but the monthly quota counted from
      // the usage table, so a restart does not hand an organization a fresh month. Credits
      // are written behind the spends only on the embedded database (one owner process):
      // on a PostgreSQL server another instance may spend the same key.
      const flushMs = Number(env.KEYWARD_CREDITS_FLUSH_MS ?? 1000);
      return env.DATABASE_URL || !(flushMs > 0)
        ? { kind: "memory", quota: "database" }
        : { kind: "memory", quota: "database", creditsFlushMs: flushMs };
    }
    case "postgres":
      return { kind: "postgres" };
    case "redis":
      if (!env.REDIS_URL) throw new Error("RATE_LIMIT_STORE=redis needs REDIS_URL");
      return { kind: "redis", url: env.REDIS_URL };
    default:
      throw new Error(`RATE_LIMIT_STORE must be memory, postgres or redis (got "${chosen}")`);
  }
}

export function createRateLimitStore(config: RateLimitConfig): RateLimitStore {
  switch (config.kind) {
    case "memory":
      return new MemoryRateLimitStore({ now: config.now });
    case "postgres":
      return new PostgresRateLimitStore({
        db: config.db ?? getDb,
        now: config.now,
      });
    case "redis":
      return new RedisRateLimitStore({
        redis: config.redis,
        url: config.url,
        prefix: config.prefix,
        now: config.now,
      });
  }
}

export interface RateLimiter {
  kind: RateLimitStoreKind;
  store: RateLimitStore;
  quota: QuotaCounter;
  /** Keys' live credit balances, in the same store as the quota (memory, PostgreSQL, Redis). */
  credits: CreditStore;
  /** Month-to-date metered cost per organization and key, for the spend caps. */
  spend: SpendCounter;
  /** In-process limiter used when `store` fails and a policy fails open (policies.ts). */
  local: MemoryRateLimitStore;
  /**
   * A key's rate limit and then its organization's quota in one step, with the same rules as
   * `store.hit` followed by `quota.consume` (only when admitted). Present when the store can do
   * both at once (Redis: one script, one round trip); otherwise limitKeyRequest makes the calls.
   */
  keyRequest?(req: KeyRequest): Promise<KeyRequestResult>;
  /** Redis limiters: whether Redis answers a PING now (through the circuit breaker, bounded). */
  redisHealth?(): Promise<"ok" | "unavailable">;
  close(): Promise<void>;
}

/** A store and a quota counter of one kind; for redis they share one connection. */
export function createRateLimiter(config: RateLimitConfig): RateLimiter {
  const local = new MemoryRateLimitStore({ now: config.now });
  if (config.kind === "redis") {
    const store = createRateLimitStore(config) as RedisRateLimitStore;
    const quota = new RedisQuotaCounter({
      redis: store.redis,
      prefix: config.prefix ? `${config.prefix}quota:` : undefined,
      now: config.now,
    });
    const credits = new RedisCreditStore({
      redis: store.redis,
      prefix: config.prefix ? `${config.prefix}credits:` : undefined,
      now: config.now,
    });
    const combined = new RedisKeyRequestLimiter(store, quota, credits, config.now);
    const spend = new SpendCounter({ db: config.db ?? getDb, now: config.now });
    return {
      kind: "redis",
      store,
      quota,
      credits,
      spend,
      local,
      keyRequest: (req) => combined.hit(req),
      async redisHealth() {
        try {
          await breakerFor(store.redis).run(() => store.redis.ping());
          return "ok";
        } catch {
          return "unavailable";
        }
      },
      async close() {
        await spend.close();
        await quota.close();
        await store.close(); // closes the connection when the store opened it
        await local.close();
      },
    };
  }
  const store = createRateLimitStore(config);
  // Credits live where the quota does: in the database unless the quota is in memory (tests),
  // so a restart of the embedded default hands no key a fresh balance.
  const inDatabase = config.kind === "postgres" || config.quota === "database";
  const db = config.db ?? getDb;
  const quota = inDatabase
    ? new PostgresQuotaCounter({ db, now: config.now })
    : new MemoryQuotaCounter({ now: config.now });
  const writeBehindMs = config.kind === "memory" ? config.creditsFlushMs : undefined;
  const credits = !inDatabase
    ? new MemoryCreditStore({ now: config.now })
    : writeBehindMs
      ? new WriteBehindCreditStore({ db, now: config.now, flushMs: writeBehindMs })
      : new PostgresCreditStore({ db, now: config.now });
  const spend = new SpendCounter({ db, now: config.now });
  return {
    kind: config.kind,
    store,
    quota,
    credits,
    spend,
    local,
    async close() {
      await spend.close();
      await credits.close();
      await quota.close();
      await store.close();
      await local.close();
    },
  };
}

// Next bundles route handlers and instrumentation separately: one limiter per process
// lives on globalThis, like the database.
const KEY = Symbol.for("keyward.ratelimit");
type Holder = { limiter?: RateLimiter };
function holder(): Holder {
  const g = globalThis as unknown as Record<symbol, Holder>;
  g[KEY] ??= {};
  return g[KEY];
}

/** The process's limiter, created from the environment on first use; closed at shutdown. */
export function getRateLimiter(): RateLimiter {
  const h = holder();
  if (!h.limiter) {
    const limiter = createRateLimiter(rateLimitConfigFromEnv());
    h.limiter = limiter;
    // After the usage recorder's flush (50), before the database closes (90).
    onShutdown("ratelimit", () => closeRateLimiter(), 60);
  }
  return h.limiter;
}

/** The process's limiter when one was created; never creates one. */
export function currentRateLimiter(): RateLimiter | undefined {
  return holder().limiter;
}

/** Installs a limiter as the process's (tests, or a server that builds its own). */
export function setRateLimiter(limiter: RateLimiter | undefined): void {
  holder().limiter = limiter;
}

export async function closeRateLimiter(): Promise<void> {
  const h = holder();
  const limiter = h.limiter;
  h.limiter = undefined;
  await limiter?.close();
}
