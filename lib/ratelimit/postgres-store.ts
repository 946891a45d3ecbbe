// PostgreSQL rate-limit store on the RateLimitTracking table: for one instance
// without Redis, or as a fallback. One row per (key id, fixed window); a hit is one
// statement (INSERT ... ON CONFLICT ... DO UPDATE ... WHERE), so concurrent hits on
// the same key serialize on the row and the limit holds exactly under concurrency.
//
// Every policy's keys (API key ids, client addresses, e-mails) live in the table's
// `key` column. A `tableKey` mapping may still send some keys to an in-process
// memory store instead (it returns null for those).

import type { Tx } from "@/lib/db";
import { Prisma } from "@/lib/db";
import { MemoryRateLimitStore } from "./memory-store";
import { admits, toResult, validateHit, windowStartOf } from "./sliding-window";
import type { Clock, RateLimitResult, RateLimitStore, Reservation } from "./types";

export interface PostgresStoreOptions {
  /** The database, or a function that returns it (e.g. getDb, opened on first use). */
  db: Tx | (() => Promise<Tx>);
  now?: Clock;
  /** Maps a limiter key to the table's key, or null to limit it in process (default: identity). */
  tableKey?: (key: string) => string | null;
  /** How often old windows are deleted (default 5 minutes; 0 disables the timer). */
  cleanupIntervalMs?: number;
}

// Timestamps go in as integer epoch ms and are turned into timestamp(3) exactly.
const ts = (ms: number) =>
  Prisma.sql`('epoch'::timestamp + ${ms}::bigint * interval '1 millisecond')`;

const split = ({ windowStart, ...result }: Reservation) => ({ result, windowStart });

export class PostgresRateLimitStore implements RateLimitStore {
  private readonly dbSource: PostgresStoreOptions["db"];
  private readonly now: Clock;
  private readonly tableKey: (key: string) => string | null;
  private readonly local: MemoryRateLimitStore;
  private readonly timer?: NodeJS.Timeout;
  /** Longest window seen, so cleanup never deletes a window still in use. */
  private maxWindowMs = 60_000;

  constructor(options: PostgresStoreOptions) {
    this.dbSource = options.db;
    this.now = options.now ?? Date.now;
    this.tableKey = options.tableKey ?? ((key) => key);
    this.local = new MemoryRateLimitStore({ now: this.now });
    const every = options.cleanupIntervalMs ?? 5 * 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.cleanup().catch(() => {}), every);
      this.timer.unref();
    }
  }

  private db(): Promise<Tx> {
    return typeof this.dbSource === "function" ? this.dbSource() : Promise.resolve(this.dbSource);
  }

  async hit(key: string, limit: number, windowMs: number, cost = 1): Promise<RateLimitResult> {
    return (await this.hitAt(key, limit, windowMs, cost)).result;
  }

  async reserve(key: string, limit: number, windowMs: number, cost = 1): Promise<Reservation> {
    const { result, windowStart } = await this.hitAt(key, limit, windowMs, cost);
    return { ...result, windowStart };
  }

  async release(key: string, windowStart: number, windowMs: number, cost = 1): Promise<void> {
    validateHit(0, windowMs, cost);
    const id = this.tableKey(key);
    if (id === null) return this.local.release(key, windowStart, windowMs, cost);
    const db = await this.db();
    // One row per fixed window: the reservation's row is decremented in one statement (the row
    // lock serializes it with concurrent hits); a window already cleaned up is simply gone.
    await db.$executeRaw`
      UPDATE "RateLimitTracking"
      SET "requestCount" = GREATEST("requestCount" - ${cost}::int, 0),
          "updatedAt" = (now() AT TIME ZONE 'UTC')
      WHERE "key" = ${id} AND "windowStart" = ${ts(windowStart)}`;
  }

  private async hitAt(
    key: string,
    limit: number,
    windowMs: number,
    cost: number,
  ): Promise<{ result: RateLimitResult; windowStart: number }> {
    validateHit(limit, windowMs, cost);
    const id = this.tableKey(key);
    if (id === null) return this.local.reserve(key, limit, windowMs, cost).then(split);
    if (windowMs > this.maxWindowMs) this.maxWindowMs = windowMs;
    const now = this.now();
    const start = windowStartOf(now, windowMs);
    const elapsed = now - start;
    // used*W + cost*W <= limit*W, in bigint; the same rule as sliding-window.ts admits().
    const fits = (curr: Prisma.Sql) =>
      Prisma.sql`(SELECT c FROM prev) * ${windowMs - elapsed}::bigint + (${curr} + ${cost}::bigint) * ${windowMs}::bigint <= ${limit}::bigint * ${windowMs}::bigint`;
    const db = await this.db();
    const rows = await db.$queryRaw<
      { prev: bigint | number; after: number | null; seen: number | null }[]
    >`
      WITH prev AS (
        SELECT COALESCE((SELECT "requestCount" FROM "RateLimitTracking"
          WHERE "key" = ${id} AND "windowStart" = ${ts(start - windowMs)}), 0)::bigint AS c
      ), hit AS (
        INSERT INTO "RateLimitTracking" ("id", "key", "windowStart", "windowEnd", "requestCount", "updatedAt")
        SELECT gen_random_uuid(), ${id}, ${ts(start)}, ${ts(start + windowMs)}, ${cost}::int,
          (now() AT TIME ZONE 'UTC')
        FROM prev WHERE ${fits(Prisma.sql`0`)}
        ON CONFLICT ("key", "windowStart") DO UPDATE
          SET "requestCount" = "RateLimitTracking"."requestCount" + EXCLUDED."requestCount",
              "updatedAt" = EXCLUDED."updatedAt"
          WHERE ${fits(Prisma.sql`"RateLimitTracking"."requestCount"::bigint`)}
        RETURNING "requestCount"
      )
      SELECT (SELECT c FROM prev) AS prev,
        (SELECT "requestCount" FROM hit) AS after,
        (SELECT "requestCount" FROM "RateLimitTracking"
          WHERE "key" = ${id} AND "windowStart" = ${ts(start)}) AS seen`;
    const row = rows[0];
    const prev = Number(row.prev);
    const allowed = row.after !== null;
    // Denied: the count as of the statement's snapshot. A concurrent hit that the conflict
    // check waited for can be missing from it; when the snapshot would still admit this hit, it
    // is stale, so read the row again (it is committed by now) for an honest retry-after.
    let curr = allowed ? Number(row.after) : Number(row.seen ?? 0);
    if (!allowed && admits(prev, curr, elapsed, windowMs, limit, cost)) {
      const again = await db.$queryRaw<{ count: number }[]>`
        SELECT "requestCount" AS count FROM "RateLimitTracking"
        WHERE "key" = ${id} AND "windowStart" = ${ts(start)}`;
      curr = Math.max(curr, Number(again[0]?.count ?? 0));
    }
    return {
      result: toResult({ prev, curr }, allowed, now, windowMs, limit, cost),
      windowStart: start,
    };
  }

  async peek(key: string, limit: number, windowMs: number, cost = 1): Promise<RateLimitResult> {
    validateHit(limit, windowMs, cost);
    const id = this.tableKey(key);
    if (id === null) return this.local.peek(key, limit, windowMs, cost);
    const now = this.now();
    const start = windowStartOf(now, windowMs);
    const db = await this.db();
    const rows = await db.$queryRaw<{ start: bigint | number; count: number }[]>`
      SELECT (EXTRACT(EPOCH FROM "windowStart") * 1000)::bigint AS start, "requestCount" AS count
      FROM "RateLimitTracking"
      WHERE "key" = ${id}
        AND "windowStart" IN (${ts(start - windowMs)}, ${ts(start)})`;
    let prev = 0;
    let curr = 0;
    for (const r of rows) {
      if (Number(r.start) === start) curr = r.count;
      else prev = r.count;
    }
    const allowed = admits(prev, curr, now - start, windowMs, limit, cost);
    return toResult({ prev, curr }, allowed, now, windowMs, limit, cost);
  }

  async reset(key: string): Promise<void> {
    const id = this.tableKey(key);
    if (id === null) return this.local.reset(key);
    const db = await this.db();
    await db.rateLimitTracking.deleteMany({ where: { key: id } });
  }

  /** Deletes windows too old to count for anything; returns how many rows went. */
  async cleanup(): Promise<number> {
    const db = await this.db();
    const before = new Date(this.now() - this.maxWindowMs);
    const { count } = await db.rateLimitTracking.deleteMany({
      where: { windowEnd: { lte: before } },
    });
    return count;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.local.close();
  }
}
