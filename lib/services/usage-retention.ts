// Usage retention. Raw ApiKeyUsage rows are kept for the organization's usageRetentionDays (its
// plan's default: FREE 30, PRO 90, ENTERPRISE 365, changeable per organization); rollups, which
// every chart and report reads, are kept longer: hour rollups 90 days, day rollups 400 days or
// the organization's raw retention if that is longer. Deletes run in bounded batches (5,000 rows
// per statement, looping), organization by organization along an index, so no statement holds
// locks for long and the recorder's inserts go on meanwhile.
//
// pruneUsage(db, now) is the whole job, callable from a CLI or a test. startRetentionTimer() runs
// it in the server process: a first run a minute after start, then hourly; the timers are unref'd
// (they never keep the process alive), runs never overlap, and at shutdown the timer stops and a
// run in progress is asked to stop between statements and awaited before the database closes.
import { type Db, getDb, type Tx } from "@/lib/db";
import { onShutdown } from "@/lib/lifecycle";
import { usageRepository } from "@/lib/repositories/usage-repository";
import {
  DAY_ROLLUP_RETENTION_DAYS,
  HOUR_ROLLUP_RETENTION_DAYS,
  usageRollupRepository,
} from "@/lib/repositories/usage-rollup-repository";

export interface PruneOptions {
  /** Rows per DELETE statement (default 5,000). */
  batchSize?: number;
  /** Hour rollups older than this many days are deleted (default 90). */
  hourRollupDays?: number;
  /** Day rollups older than this many days, or the raw retention if longer (default 400). */
  dayRollupDays?: number;
  /** Stop between statements (a shutdown). */
  signal?: AbortSignal;
}

export interface PruneResult {
  rawDeleted: number;
  rollupsDeleted: number;
  /** Organizations whose rollups were pruned. */
  organizations: number;
  ms: number;
}

/** Deletes raw usage past each organization's retention and rollups past theirs. */
export async function pruneUsage(
  db: Tx,
  now: Date = new Date(),
  options: PruneOptions = {},
): Promise<PruneResult> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 5_000;
  const rawDeleted = await usageRepository.deleteOldRecords(db, {
    now,
    batchSize,
    signal: options.signal,
  });
  const window = {
    now,
    hourDays: options.hourRollupDays ?? HOUR_ROLLUP_RETENTION_DAYS,
    dayDays: options.dayRollupDays ?? DAY_ROLLUP_RETENTION_DAYS,
  };
  const orgs = await usageRollupRepository.organizationsWithExpired(db, window);
  let rollupsDeleted = 0;
  for (const org of orgs) {
    if (options.signal?.aborted) break;
    rollupsDeleted += await usageRollupRepository.deleteExpired(db, org, {
      ...window,
      batchSize,
      signal: options.signal,
    });
  }
  return {
    rawDeleted,
    rollupsDeleted,
    organizations: orgs.length,
    ms: Math.round(performance.now() - started),
  };
}

export interface RetentionTimerOptions {
  /** Between runs (default one hour). */
  intervalMs?: number;
  /** Before the first run (default one minute, so start-up is not slowed). */
  firstRunMs?: number;
  db?: () => Promise<Db>;
  log?: (message: string) => void;
  prune?: PruneOptions;
}

const KEY = Symbol.for("keyward.usage-retention");
type Holder = { stop?: () => Promise<void> };
function holder(): Holder {
  const g = globalThis as unknown as Record<symbol, Holder>;
  g[KEY] ??= {};
  return g[KEY];
}

/**
 * Runs pruneUsage periodically in this process (once per process: a second call returns the
 * running timer's stop). Returns stop(), which is also registered as a shutdown hook.
 */
export function startRetentionTimer(options: RetentionTimerOptions = {}): () => Promise<void> {
  const h = holder();
  if (h.stop) return h.stop;
  const log = options.log ?? ((m: string) => console.error(m));
  const openDb = options.db ?? getDb;
  const abort = new AbortController();
  let running: Promise<void> | undefined;

  const run = () => {
    if (running || abort.signal.aborted) return;
    running = (async () => {
      try {
        const db = await openDb();
        const r = await pruneUsage(db, new Date(), { ...options.prune, signal: abort.signal });
        if (r.rawDeleted || r.rollupsDeleted) {
          log(
            `usage-retention: deleted ${r.rawDeleted} usage events and ${r.rollupsDeleted} ` +
              `rollups in ${r.ms} ms`,
          );
        }
      } catch (e) {
        const err = e as { name?: string; code?: string; message?: string };
        const first = String(err?.message ?? e)
          .split("\n")[0]
          .slice(0, 160);
        log(
          `usage-retention: prune failed (${err?.name ?? "Error"}${err?.code ? ` ${err.code}` : ""}: ${first}); next run in an hour`,
        );
      } finally {
        running = undefined;
      }
    })();
  };

  const first = setTimeout(run, options.firstRunMs ?? 60_000);
  first.unref();
  const timer = setInterval(run, options.intervalMs ?? 3_600_000);
  timer.unref();

  const stop = async () => {
    clearTimeout(first);
    clearInterval(timer);
    abort.abort();
    if (h.stop === stop) h.stop = undefined;
    await running;
  };
  h.stop = stop;
  // After intake stops (10), before buffers flush (50) and the database closes (90).
  onShutdown("usage-retention", stop, 20);
  return stop;
}
