// Metering off the request's hot path. record() only validates and pushes into a
// bounded in-memory buffer. A full batch (500 events; 5,000 on PostgreSQL) starts writing full
// batches; the timer (every second), flush() and close() write everything, the last batch
// partial. One statement per batch (per piece of it, when the database refuses some of its rows:
// see the failure policy): it inserts the batch into ApiKeyUsage and,
// from the rows it inserted, adds them to the usage rollups (hour and day, see
// usage-rollup-repository.ts) and moves each key's lastUsedAt (max) and requestCount (sum),
// so a key is written at most once per batch, never once per request.
//
// The buffer is a ring of preallocated columns (UsageRing, lib/usage/batch.ts): record() keeps no
// object per event (no row, no id string, no Date) until the flush, only typed-array slots and
// string references; batches leave it as columns, the form the statement binds. Where the
// statement runs is a UsageSink: Prisma on this thread by default; on a PostgreSQL server the
// process recorder's sink is a worker thread with its own pg pool (usage-writer.ts), so the
// batches' parameter building, pg and their garbage leave the request thread. The decisions
// (batches, retries, splitting, counting) stay here either way.
//
// Why one INSERT ... SELECT FROM unnest(arrays) and not prisma.createMany: measured
// here, createMany spends 0.4-1 s building a 500-row insert (7,000 bound parameters),
// which caps metering near 1,000 events/s on one core; unnest with 14 array
// parameters takes 30-90 ms for the same batch on PGlite and PostgreSQL. Being one
// statement it is also atomic without a transaction, and because the counters are
// computed from RETURNING, a batch retried after a commit whose answer was lost
// (ids are given at record time, ON CONFLICT DO NOTHING) is counted exactly once.
//
// With `writers` > 1 (the process recorder on PostgreSQL uses 2) that many batches are written
// at once: one batch's raw insert runs beside another's rollup upsert. Concurrent batches lock
// shared rollup rows in primary-key order, so they wait for each other, never deadlock.
//
// Buffer policy: at most `maxBuffer` (50,000) events wait, counting the batches being
// written or waiting for a retry. When that is full, record() refuses the event and counts it as
// dropped (buffer_full; it cannot wait: it is synchronous); recordAsync() instead waits for a
// flush to make room (backpressure) and drops only if that flush fails. The buffer fills only when
// writes fail or fall far behind, so these drops mean "the database is down", and say so.
//
// Failure policy: a failure is either the database's (connection lost, shutting down, a deadlock
// or timeout: retrying later helps) or the rows' (the database refuses what they hold: NUL or
// badly encoded text, a number a column or a rollup sum cannot hold, a deleted key). The first
// kind puts the batch back, as its own unit (never merged with newer events), ahead of the
// buffer, and it is retried with backoff (1 s doubling to 30 s); the bound above caps what waits.
// The second kind is dealt with at once: events whose key was deleted are discarded, then the
// batch is split in halves, each written by the same one statement, and a half that fails again
// is split again, until each refused event stands alone; those are dropped, counted by reason and
// logged (organization, key and reason, nothing else), and every other event is written. An error
// of neither known kind is the rows' when the database still answers a trivial query, else the
// database's. So one tenant's bad event never holds up another's metering (PRODUCT.md section 8).
// Events are validated before they get here (lib/validation/usage.ts bounds what rollups can sum);
// this is the net under that. Logs carry error names and codes, never events (addresses, user
// agents) or anything secret.

import { config } from "@/lib/config";
import { type Db, getDb, postgresTimeouts } from "@/lib/db";
import { databaseTarget } from "@/lib/db/config";
import { onShutdown } from "@/lib/lifecycle";
import { currentRateLimiter } from "@/lib/ratelimit";
import { usageRollupRepository } from "@/lib/repositories/usage-rollup-repository";
import {
  allRows,
  columnsOf,
  isRecordable,
  selectRows,
  type UsageBatch,
  UsageRing,
} from "@/lib/usage/batch";
import type { UsageEvent, UsageRow } from "@/lib/usage/event";
import { usageWorkerAvailable, workerSink } from "./usage-writer";

/** What the recorder needs of the database (a PrismaClient; tests may wrap one). */
export type UsageDb = Pick<Db, "$queryRaw" | "apiKey">;

export interface UsageRecorderOptions {
  /** The database, or a function returning it; default getDb (opened on first flush). */
  db?: UsageDb | (() => Promise<UsageDb>);
  /** Timer period in ms (default 1,000); 0 disables the timer (flush by size or by hand). */
  flushIntervalMs?: number;
  /** Events per write, and the buffer size that triggers one (default 500). */
  batchSize?: number;
  /** Most events waiting, including the batches being written (default 50,000). */
  maxBuffer?: number;
  /**
   * Batches written at once (default 1). On PostgreSQL 2 lets the raw insert of one batch run
   * beside the rollup upsert of another (measured: bench/usage-ingest.ts, docs/benchmarks.md);
   * on PGlite there is one connection, so more than 1 gains nothing.
   */
  writers?: number;
  log?: (message: string) => void;
  /** Told every event it keeps, at record time (the spend caps' month-to-date counter). */
  onRecord?: (row: Pick<UsageRow, "organizationId" | "apiKeyId" | "costUsd">) => void;
  /**
   * Where batches are written instead of `db` (the worker thread's writer on PostgreSQL,
   * usage-writer.ts); default: `db` on this thread.
   */
  sink?: UsageSink;
}

/**
 * What the recorder writes batches through: one statement per piece of a batch, and the two
 * questions the failure policy asks. Errors keep the database's SQLSTATE in `code`.
 */
export interface UsageSink {
  /** Writes the rows `idx` of the batch in one statement; resolves to the number inserted. */
  insert(batch: UsageBatch, idx: readonly number[]): Promise<number>;
  /** Whether the database answers a trivial query. */
  answers(): Promise<boolean>;
  /** Those of the keys that still exist, with their organization. */
  liveKeys(ids: string[]): Promise<{ id: string; organizationId: string }[]>;
  /** The recorder is done with this batch (written, refused or put back as a new one). */
  release?(batch: UsageBatch): void;
  /** Waits for and ends what the sink runs (after the recorder's close). */
  close?(): Promise<void>;
}

/** A sink writing with a Prisma client on this thread (PGlite; tests; the default). */
export function prismaSink(source: UsageDb | (() => Promise<UsageDb>)): UsageSink {
  const db = () => (typeof source === "function" ? source() : Promise.resolve(source));
  return {
    async insert(batch, idx) {
      return usageRollupRepository.insertBatch(await db(), columnsOf(batch, idx));
    },
    async answers() {
      try {
        await (await db()).$queryRaw`SELECT 1`;
        return true;
      } catch {
        return false;
      }
    },
    async liveKeys(ids) {
      return (await db()).apiKey.findMany({
        where: { id: { in: ids } },
        select: { id: true, organizationId: true },
      });
    },
  };
}

/** Why events were dropped (stats().droppedByReason, /api/v1/health `metering`). */
export interface DroppedByReason {
  /** The database refused the event's text (NUL, bad encoding). */
  invalid_text: number;
  /** A number the event's column, or a rollup it adds to, cannot hold. */
  out_of_range: number;
  /** Its key was deleted before it was written. */
  orphaned: number;
  /** Any other refusal of the event on its own. */
  rejected: number;
  /** Refused at record() as malformed (e.g. an id that is not a uuid). */
  malformed: number;
  /** Refused at record() because the buffer was full. */
  buffer_full: number;
  /** Recorded after close, or still waiting when the database stayed down at shutdown. */
  shutdown: number;
}

export interface UsageRecorderStats {
  /** Waiting to be written (buffered, in flight, or waiting for a retry). */
  pending: number;
  recorded: number;
  written: number;
  /** Refused because the buffer was full or the recorder closed. */
  dropped: number;
  /** Refused at record() as malformed (e.g. an id that is not a uuid). */
  invalid: number;
  /** Discarded at write time because their key no longer exists. */
  orphaned: number;
  /** Every event not written, by reason. */
  droppedByReason: DroppedByReason;
  batches: number;
  failedFlushes: number;
  lastError?: string;
}

/** Error name and code and the first line of the message: no values, no rows. */
function describeError(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  const first = String(err?.message ?? e)
    .split("\n")
    .find((l) => l.trim())
    ?.slice(0, 160);
  return `${err?.name ?? "Error"}${code ? ` ${code}` : ""}: ${first ?? ""}`;
}

/** The SQLSTATE of a database error, through Prisma's driver-adapter wrapping; or undefined. */
export function sqlStateOf(e: unknown): string | undefined {
  const err = e as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } };
  };
  const adapter = err?.meta?.driverAdapterError?.cause;
  const fromMessage = /Code: `([0-9A-Z]{5})`/.exec(String(err?.message ?? ""))?.[1];
  for (const c of [
    adapter?.originalCode,
    adapter?.code,
    fromMessage,
    err?.cause?.code,
    err?.code,
  ]) {
    // Prisma's own codes (P2010 ...) look like SQLSTATEs; they are not.
    if (typeof c === "string" && /^[0-9A-Z]{5}$/.test(c) && !/^P\d{4}$/.test(c)) return c;
  }
  return undefined;
}

function isForeignKeyViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    sqlStateOf(e) === "23503" || err?.code === "P2003" || /foreign key/i.test(String(err?.message))
  );
}

/**
 * Why the database refused a row on its own, from the SQLSTATE (see DroppedByReason). Orphans are
 * told by looking their key up (withoutOrphans), not by the error.
 */
function refusalReason(e: unknown): "invalid_text" | "out_of_range" | "rejected" {
  const state = sqlStateOf(e);
  if (state === "22021" || state === "22P05") return "invalid_text";
  if (state === "22003" || state === "22008" || state === "22001" || state === "54000") {
    return "out_of_range";
  }
  return "rejected";
}

// Errors that say the database (or the way to it) failed, not the rows: retry the batch later.
const CONNECTION_RE =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection terminated|connection (?:is )?closed|Can't reach database|timed? ?out|database system is (?:starting up|shutting down)|too many clients/i;

/**
 * "rows": the database refuses what these rows hold (data exception, integrity or cardinality
 * violation, program limit); "database": it failed on its own (connection, resources, shutdown,
 * deadlock, timeout); "unknown": neither said.
 */
function failureKind(e: unknown): "rows" | "database" | "unknown" {
  const state = sqlStateOf(e);
  if (state) {
    const cls = state.slice(0, 2);
    if (cls === "21" || cls === "22" || cls === "23" || cls === "54") return "rows";
    return "database"; // 08 connection, 40 rollback/deadlock, 53 resources, 57 shutdown/cancel...
  }
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  // P1xxx: cannot reach or authenticate to the database; P2024: pool timeout.
  if (/^P1\d{3}$/.test(String(err?.code)) || err?.code === "P2024") return "database";
  if (CONNECTION_RE.test(`${String(err?.message)} ${String(err?.code)} ${err?.cause?.code}`)) {
    return "database";
  }
  return "unknown";
}

/** A batch (or what is left of it) that could not be written because the database failed. */
class UnwrittenRows extends Error {
  constructor(
    readonly reason: unknown,
    readonly rows: UsageBatch,
  ) {
    super("usage batch not written");
  }
}

interface Batch {
  /** Drain order: batches are taken, and put back, in this order. */
  seq: number;
  rows: UsageBatch;
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

export class UsageRecorder {
  private buffer: UsageRing;
  /** Batches the database failed to take, oldest first; each is retried as its own unit. */
  private retry: Batch[] = [];
  private retryRows = 0;
  private nextSeq = 0;
  private inFlight = 0;
  private writing = 0;
  private drainFailed = false;
  /** Whether the running drain writes partial batches too (flush, timer, close) or only full. */
  private drainAll = true;
  private batchDone: (() => void)[] = [];
  private flushing?: Promise<void>;
  private readonly timer?: NodeJS.Timeout;
  private closed = false;
  private retryAt = 0;
  private consecutiveFailures = 0;
  private readonly sink: UsageSink;
  private readonly batchSize: number;
  private readonly writers: number;
  private readonly maxBuffer: number;
  private readonly log: (message: string) => void;
  private readonly onRecord?: UsageRecorderOptions["onRecord"];
  private readonly counters = {
    recorded: 0,
    written: 0,
    dropped: 0,
    invalid: 0,
    orphaned: 0,
    batches: 0,
    failedFlushes: 0,
  };
  private readonly droppedByReason: DroppedByReason = {
    invalid_text: 0,
    out_of_range: 0,
    orphaned: 0,
    rejected: 0,
    malformed: 0,
    buffer_full: 0,
    shutdown: 0,
  };
  private lastError?: string;
  private lastDropLog = 0;

  constructor(options: UsageRecorderOptions = {}) {
    this.sink = options.sink ?? prismaSink(options.db ?? getDb);
    this.batchSize = options.batchSize ?? 500;
    this.writers = Math.max(1, Math.trunc(options.writers ?? 1));
    this.maxBuffer = Math.max(options.maxBuffer ?? 50_000, this.batchSize);
    this.buffer = new UsageRing(this.maxBuffer);
    this.log = options.log ?? ((m) => console.error(m));
    this.onRecord = options.onRecord;
    const every = options.flushIntervalMs ?? 1_000;
    if (every > 0) {
      this.timer = setInterval(() => this.tick(), every);
      this.timer.unref();
    }
  }

  /**
   * Buffers one event; synchronous and cheap. Returns false when the event was not
   * kept: malformed (counted as invalid) or the buffer is full or closed (dropped).
   */
  record(event: UsageEvent): boolean {
    if (!isRecordable(event)) {
      this.counters.invalid++;
      this.droppedByReason.malformed++;
      return false;
    }
    if (this.closed || this.pending >= this.maxBuffer || !this.buffer.push(event, Date.now())) {
      this.drop(1, this.closed ? "shutdown" : "buffer_full");
      return false;
    }
    this.counters.recorded++;
    if (this.onRecord) {
      this.onRecord({
        organizationId: event.organizationId,
        apiKeyId: event.apiKeyId,
        costUsd: this.buffer.lastCost(),
      });
    }
    if (this.buffer.length >= this.batchSize && !this.flushing && Date.now() >= this.retryAt) {
      // Full batches only: what is left over waits for the timer (or for the next full batch),
      // so steady load is written in batches of batchSize, never in many small ones.
      void this.startDrain(false).catch(() => {});
    }
    return true;
  }

  /** Like record(), but when the buffer is full waits for a flush to make room. */
  async recordAsync(event: UsageEvent): Promise<boolean> {
    if (!this.closed && this.pending >= this.maxBuffer) {
      // While batches are being written, the next one to finish makes room; waiting for the
      // whole buffer to drain instead would leave the writers idle while it refills.
      if (this.writing > 0) await new Promise<void>((resolve) => this.batchDone.push(resolve));
      else await this.flush().catch(() => {});
    }
    return this.record(event);
  }

  /** Writes everything buffered, batch by batch; rejects (keeping the events) on failure. */
  flush(): Promise<void> {
    if (this.flushing && !this.drainAll) {
      // A drain of full batches is running: let its writers take the rest too, then make sure
      // nothing recorded before this call is left (the drain may have ended just now).
      this.drainAll = true;
      return this.flushing.then(() => (this.queued > 0 ? this.flush() : undefined));
    }
    return this.startDrain(true);
  }

  private startDrain(all: boolean): Promise<void> {
    if (!this.flushing) {
      this.drainAll = all;
      this.flushing = this.drain().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  /** Stops the timer and writes everything; retries briefly, then counts what is lost. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.closed = true;
    for (const wait of [0, 200, 1_000]) {
      if (wait) await new Promise((r) => setTimeout(r, wait));
      try {
        await this.flush();
        if (this.pending === 0) return this.closeSink();
      } catch {
        // logged by drain; try again
      }
    }
    const lost = this.queued;
    this.buffer.clear();
    for (const b of this.retry) this.sink.release?.(b.rows);
    this.retry = [];
    this.retryRows = 0;
    if (lost > 0) {
      this.counters.dropped += lost;
      this.droppedByReason.shutdown += lost;
      this.log(`usage-recorder: ${lost} usage events lost at shutdown (database unavailable)`);
    }
    await this.closeSink();
  }

  private async closeSink(): Promise<void> {
    await this.sink.close?.().catch((e) => this.log(`usage-recorder: ${describeError(e)}`));
  }

  stats(): UsageRecorderStats {
    return {
      pending: this.pending,
      ...this.counters,
      droppedByReason: { ...this.droppedByReason },
      lastError: this.lastError,
    };
  }

  /** Waiting and not being written: the buffer and the batches waiting for a retry. */
  private get queued(): number {
    return this.buffer.length + this.retryRows;
  }

  private get pending(): number {
    return this.queued + this.inFlight;
  }

  private tick(): void {
    if (this.queued > 0 && !this.flushing && Date.now() >= this.retryAt) {
      void this.flush().catch(() => {});
    }
  }

  private drop(n: number, why: "buffer_full" | "shutdown"): void {
    this.counters.dropped += n;
    this.droppedByReason[why] += n;
    const now = Date.now();
    if (now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      const text = why === "shutdown" ? "recorder closed" : "buffer full";
      this.log(`usage-recorder: dropping usage events (${text}); ${this.counters.dropped} so far`);
    }
  }

  /**
   * Writes until nothing is queued (a drain started by flush, the timer or close) or the buffer
   * holds less than a full batch and no retry waits (a drain started by a full batch), with up to
   * `writers` batches in flight. A writer takes a partial batch only in the first kind and only
   * when no other is writing (so concurrency never splits the stream into small batches);
   * otherwise it waits for the next batch to finish. The first failure of the database stops
   * every writer (what its batch had left goes back, in order, as its own unit) and rejects the
   * drain; refused rows never fail it (see write).
   */
  private async drain(): Promise<void> {
    this.drainFailed = false;
    const results = await Promise.allSettled(
      Array.from({ length: this.writers }, () => this.writer()),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async writer(): Promise<void> {
    while (
      (this.retry.length > 0 ||
        this.buffer.length >= (this.drainAll ? 1 : this.batchSize) ||
        this.writing > 0) &&
      !this.drainFailed
    ) {
      if (this.retry.length === 0 && this.writing > 0 && this.buffer.length < this.batchSize) {
        await new Promise<void>((resolve) => this.batchDone.push(resolve));
        continue;
      }
      const retried = this.retry.shift();
      if (retried) this.retryRows -= retried.rows.n;
      const batch = retried ?? { seq: this.nextSeq++, rows: this.buffer.take(this.batchSize) };
      const size = batch.rows.n;
      this.inFlight += size;
      this.writing++;
      try {
        await this.write(batch.rows);
        this.consecutiveFailures = 0;
        this.retryAt = 0;
      } catch (e) {
        const failure = e instanceof UnwrittenRows ? e : new UnwrittenRows(e, batch.rows);
        this.drainFailed = true;
        // Back in drain order, as its own unit; fits: it was counted as pending.
        const back = { seq: batch.seq, rows: failure.rows };
        const at = this.retry.findIndex((b) => b.seq > back.seq);
        this.retry.splice(at < 0 ? this.retry.length : at, 0, back);
        this.retryRows += back.rows.n;
        this.counters.failedFlushes++;
        this.consecutiveFailures++;
        const backoff = Math.min(
          BACKOFF_MAX_MS,
          BACKOFF_MIN_MS * 2 ** (this.consecutiveFailures - 1),
        );
        this.retryAt = Date.now() + backoff;
        this.lastError = describeError(failure.reason);
        this.log(
          `usage-recorder: writing ${back.rows.n} usage events failed (${this.lastError}); ` +
            `${this.queued} kept, retry in ${backoff} ms`,
        );
        throw failure.reason;
      } finally {
        this.inFlight -= size;
        this.writing--;
        for (const wake of this.batchDone.splice(0)) wake();
      }
    }
  }

  /**
   * Writes a batch; events the database refuses on their own are dropped (counted and logged),
   * every other one is written. Throws UnwrittenRows (what is left) when the database fails.
   */
  private async write(batch: UsageBatch): Promise<void> {
    // Pieces still to write, in order, as row indices: the batch, or the halves of a piece the
    // database refused.
    const pieces: number[][] = [allRows(batch)];
    const dropped = new Map<string, number>();
    let handedBack: UsageBatch | undefined;
    try {
      while (pieces.length > 0) {
        const piece = pieces[0] as number[];
        try {
          const written = await this.sink.insert(batch, piece); // not `+= await`: writers race
          this.counters.written += written;
          pieces.shift();
        } catch (e) {
          if (!(await this.blameRows(e))) throw e;
          pieces.shift();
          if (isForeignKeyViolation(e)) {
            const kept = await this.withoutOrphans(batch, piece, dropped);
            if (kept.length < piece.length) {
              if (kept.length > 0) pieces.unshift(kept);
              continue;
            }
          }
          if (piece.length === 1) {
            this.refuse(batch, piece[0] as number, refusalReason(e), dropped);
            continue;
          }
          const half = Math.ceil(piece.length / 2);
          pieces.unshift(piece.slice(0, half), piece.slice(half));
        }
      }
    } catch (e) {
      const left = pieces.flat();
      handedBack = left.length === batch.n ? batch : selectRows(batch, left);
      throw new UnwrittenRows(e, handedBack);
    } finally {
      if (handedBack !== batch) this.sink.release?.(batch);
      for (const [what, n] of dropped) {
        this.log(`usage-recorder: dropped ${n} usage event${n === 1 ? "" : "s"} of ${what}`);
      }
    }
    this.counters.batches++;
  }

  /** Whether a failed write is the rows' fault (see the top of this file). */
  private async blameRows(e: unknown): Promise<boolean> {
    const kind = failureKind(e);
    if (kind !== "unknown") return kind === "rows";
    // the database answers, yet refuses these rows
    return this.sink.answers();
  }

  /** The rows (of `idx`) whose key still exists; the others are dropped as orphaned. */
  private async withoutOrphans(
    batch: UsageBatch,
    idx: number[],
    dropped: Map<string, number>,
  ): Promise<number[]> {
    const keyIds = [...new Set(idx.map((i) => batch.apiKeyId[i] as string))];
    const alive = await this.sink.liveKeys(keyIds);
    const live = new Set(alive.map((k) => `${k.id}/${k.organizationId}`));
    const kept: number[] = [];
    for (const i of idx) {
      if (live.has(`${batch.apiKeyId[i]}/${batch.organizationId[i]}`)) kept.push(i);
      else this.refuse(batch, i, "orphaned", dropped);
    }
    return kept;
  }

  /** Drops one refused event: counted by reason, logged by organization, key and reason. */
  private refuse(
    batch: UsageBatch,
    i: number,
    reason: keyof DroppedByReason,
    dropped: Map<string, number>,
  ): void {
    this.droppedByReason[reason]++;
    if (reason === "orphaned") this.counters.orphaned++;
    const what = `organization ${batch.organizationId[i]} key ${batch.apiKeyId[i]} (${reason})`;
    dropped.set(what, (dropped.get(what) ?? 0) + 1);
  }
}

// One recorder per process (Next bundles modules more than once), flushed at shutdown
// after intake stops (10) and before the database closes (90).
const KEY = Symbol.for("keyward.usage-recorder");
type Holder = { recorder?: UsageRecorder };
function holder(): Holder {
  const g = globalThis as unknown as Record<symbol, Holder>;
  g[KEY] ??= {};
  return g[KEY];
}

/**
 * On a PostgreSQL server: batches of 5,000 and two in flight (about 20,000 events/s here, against
 * about 10,000 with 500 and one; bench/usage-ingest.ts), written by a worker thread with its own
 * two connections (usage-writer.ts; KEYWARD_USAGE_WORKER=off writes on this thread instead). On
 * PGlite one connection serves every query, so batches stay at 500 (a long write would hold up
 * key verification) and one writer, on this thread: the database lives here (TOOLCHAIN.md).
 */
function processDefaults(): UsageRecorderOptions {
  try {
    const target = databaseTarget();
    if (target.kind !== "postgres") return {};
    const defaults = { batchSize: 5_000, writers: 2 };
    if (config().KEYWARD_USAGE_WORKER === "off" || !usageWorkerAvailable()) return defaults;
    const t = postgresTimeouts();
    const sink = workerSink({
      url: target.url,
      poolSize: defaults.writers,
      connectMs: t.connectMs,
      queryMs: t.queryMs,
    });
    return { ...defaults, sink };
  } catch {
    return {};
  }
}

export function getUsageRecorder(): UsageRecorder {
  const h = holder();
  if (!h.recorder) {
    const recorder = new UsageRecorder({
      ...processDefaults(),
      // The spend caps count cost as it is recorded (lib/ratelimit/spend.ts), on this process's
      // limiter when there is one (nothing verifies without it).
      onRecord: (row) =>
        currentRateLimiter()?.spend.add(row.organizationId, row.apiKeyId, row.costUsd),
    });
    h.recorder = recorder;
    onShutdown(
      "usage-recorder",
      async () => {
        if (h.recorder === recorder) h.recorder = undefined;
        await recorder.close();
      },
      50,
    );
  }
  return h.recorder;
}
