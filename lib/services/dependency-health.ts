// The state of Keyward's dependencies for /api/v1/health: the database and, when rate limits
// and quotas are counted there, Redis. Each check is bounded, and the answer is cached for a
// second with one check in flight at a time, so health polled hard during an outage neither
// waits long nor piles up queries on a pool that is already in trouble.
import type { Db } from "@/lib/db";
import { getRateLimiter } from "@/lib/ratelimit";

export interface DependencyHealth {
  database: "ok" | "unavailable";
  /** The Redis of the rate limits and quotas; "not_configured" when they are not in Redis. */
  redis: "ok" | "unavailable" | "not_configured";
}

const CACHE_MS = 1_000;
const DB_TIMEOUT_MS = 2_000;

interface State {
  value?: DependencyHealth;
  at: number;
  checking?: Promise<DependencyHealth>;
  /** The last database probe while it has not settled: never two at once. */
  dbProbe?: Promise<unknown>;
}

// On globalThis: Next bundles route handlers separately; one cache per process.
const KEY = Symbol.for("keyward.dependencyHealth");
function state(): State {
  const g = globalThis as unknown as Record<symbol, State>;
  g[KEY] ??= { at: Number.NEGATIVE_INFINITY };
  return g[KEY];
}

async function checkDatabase(db: Db): Promise<DependencyHealth["database"]> {
  const s = state();
  // A probe still hanging from before (a server that stopped answering) says enough.
  if (s.dbProbe) return "unavailable";
  const probe: Promise<unknown> = Promise.resolve(db.$queryRaw`SELECT 1`);
  s.dbProbe = probe;
  probe.then(
    () => {
      if (s.dbProbe === probe) s.dbProbe = undefined;
    },
    () => {
      if (s.dbProbe === probe) s.dbProbe = undefined;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), DB_TIMEOUT_MS);
      }),
    ]);
    return "ok";
  } catch {
    return "unavailable";
  } finally {
    clearTimeout(timer);
  }
}

async function checkRedis(): Promise<DependencyHealth["redis"]> {
  try {
    const limiter = getRateLimiter();
    if (!limiter.redisHealth) return "not_configured";
    return await limiter.redisHealth();
  } catch {
    return "unavailable";
  }
}

/** The dependencies' state, at most a second old. */
export function checkDependencies(db: Db, now: () => number = Date.now): Promise<DependencyHealth> {
  const s = state();
  if (s.value && now() - s.at < CACHE_MS) return Promise.resolve(s.value);
  s.checking ??= (async () => {
    try {
      const [database, redis] = await Promise.all([checkDatabase(db), checkRedis()]);
      s.value = { database, redis };
      s.at = now();
      return s.value;
    } finally {
      s.checking = undefined;
    }
  })();
  return s.checking;
}

/** "ok" when every configured dependency is. */
export function overallStatus(h: DependencyHealth): "ok" | "degraded" {
  return h.database === "ok" && h.redis !== "unavailable" ? "ok" : "degraded";
}
