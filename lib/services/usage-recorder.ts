// Metering off the request's hot path. record() only validates and pushes into a
// bounded in-memory buffer. A full batch (500 events; 5,000 on PostgreSQL) starts writing full
// batches; the timer (every second), flush() and close() write everything, the last batch
// partial. One statement per batch: it inserts the batch into ApiKeyUsage and,
// from the rows it inserted, adds them to the usage rollups (hour and day, see
// usage-rollup-repository.ts) and moves each key's lastUsedAt (max) and requestCount (sum),
// so a key is written at most once per batch, never once per request.
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
// Buffer policy: at most `maxBuffer` (50,000) events wait, counting the batch being
// written. When that is full, record() refuses the event and counts it as dropped
// (it cannot wait: it is synchronous); recordAsync() instead waits for a flush to make
// room (backpressure) and drops only if that flush fails. The buffer fills only when
// writes fail or fall far behind, so drops mean "the database is down", and say so.
//
// Failure policy: a failed batch goes back to the front of the buffer and is retried
// with backoff (1 s doubling to 30 s); the bound above caps what waits. Events whose key
// has been deleted meanwhile (foreign key violation) are discarded and counted, so one
// deleted key cannot block the queue. Logs carry error names and codes, never events
// (addresses, user agents) or anything secret.

import { randomUUID } from "node:crypto";
import { type Db, getDb } from "@/lib/db";
import { databaseTarget } from "@/lib/db/config";
import { onShutdown } from "@/lib/lifecycle";
import { type UsageRow, usageRollupRepository } from "@/lib/repositories/usage-rollup-repository";

export interface UsageEvent {
  apiKeyId: string;
  organizationId: string;
  endpoint: string;
  method: string;
  statusCode: number;
  responseTimeMs: number;
  tokens?: number;
  /** USD as a decimal string ("0.0042"), never a float. */
  costUsd?: string;
  ipAddress?: string | null;
  userAgent?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  createdAt?: Date;
  /**
   * Whether the call counted against the monthly quota. Default: the status is not 401, 403 or
   * 429 (the key check refused it); verify sets it (its refusals answer 200).
   */
  billable?: boolean;
}

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
}

export interface UsageRecorderStats {
  /** Waiting to be written (buffered plus in flight). */
  pending: number;
  recorded: number;
  written: number;
  /** Refused because the buffer was full or the recorder closed. */
  dropped: number;
  /** Refused at record() as malformed (e.g. an id that is not a uuid). */
  invalid: number;
  /** Discarded at write time because their key no longer exists. */
  orphaned: number;
  batches: number;
  failedFlushes: number;
  lastError?: string;
}

type Row = UsageRow;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Decimal(14,6): at most 8 integer digits; more fractional digits are rounded by PostgreSQL.
const COST_RE = /^-?\d{1,8}(\.\d+)?$/;
const INT_MAX = 2_147_483_647;

const clip = (s: string | null | undefined, n: number): string | null =>
  s == null ? null : s.length > n ? s.slice(0, n) : s;
const int = (n: number | undefined, fallback = 0): number =>
  Number.isFinite(n) ? Math.min(INT_MAX, Math.max(0, Math.round(n as number))) : fallback;

/** A row that cannot fail to insert for reasons of its own, or null when it is malformed. */
function toRow(e: UsageEvent): Row | null {
  if (!UUID_RE.test(e.apiKeyId) || !UUID_RE.test(e.organizationId)) return null;
  if (!Number.isInteger(e.statusCode) || e.statusCode < 100 || e.statusCode > 999) return null;
  const createdAt =
    e.createdAt instanceof Date && !Number.isNaN(e.createdAt.getTime()) ? e.createdAt : new Date();
  return {
    id: randomUUID(),
    apiKeyId: e.apiKeyId,
    organizationId: e.organizationId,
    endpoint: clip(e.endpoint, 512) ?? "",
    method: clip(e.method, 16) ?? "",
    statusCode: e.statusCode,
    responseTimeMs: int(e.responseTimeMs),
    tokens: int(e.tokens),
    costUsd: e.costUsd !== undefined && COST_RE.test(e.costUsd) ? e.costUsd : "0",
    ipAddress: clip(e.ipAddress, 64),
    userAgent: clip(e.userAgent, 512),
    errorCode: clip(e.errorCode, 64),
    errorMessage: clip(e.errorMessage, 1000),
    createdAt,
    billable: typeof e.billable === "boolean" ? e.billable : undefined,
  };
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

function isForeignKeyViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  return (
    err?.code === "P2003" ||
    err?.code === "23503" ||
    err?.cause?.code === "23503" ||
    /foreign key/i.test(String(err?.message))
  );
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

export class UsageRecorder {
  private buffer: Row[] = [];
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
  private readonly dbSource: UsageDb | (() => Promise<UsageDb>);
  private readonly batchSize: number;
  private readonly writers: number;
  private readonly maxBuffer: number;
  private readonly log: (message: string) => void;
  private readonly counters = {
    recorded: 0,
    written: 0,
    dropped: 0,
    invalid: 0,
    orphaned: 0,
    batches: 0,
    failedFlushes: 0,
  };
  private lastError?: string;
  private lastDropLog = 0;

  constructor(options: UsageRecorderOptions = {}) {
    this.dbSource = options.db ?? getDb;
    this.batchSize = options.batchSize ?? 500;
    this.writers = Math.max(1, Math.trunc(options.writers ?? 1));
    this.maxBuffer = Math.max(options.maxBuffer ?? 50_000, this.batchSize);
    this.log = options.log ?? ((m) => console.error(m));
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
    const row = toRow(event);
    if (!row) {
      this.counters.invalid++;
      return false;
    }
    if (this.closed || this.pending >= this.maxBuffer) {
      this.drop(1, this.closed ? "recorder closed" : "buffer full");
      return false;
    }
    this.buffer.push(row);
    this.counters.recorded++;
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
      return this.flushing.then(() => (this.buffer.length > 0 ? this.flush() : undefined));
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
        if (this.pending === 0) return;
      } catch {
        // logged by drain; try again
      }
    }
    const lost = this.buffer.length;
    this.buffer = [];
    if (lost > 0) {
      this.counters.dropped += lost;
      this.log(`usage-recorder: ${lost} usage events lost at shutdown (database unavailable)`);
    }
  }

  stats(): UsageRecorderStats {
    return { pending: this.pending, ...this.counters, lastError: this.lastError };
  }

  private get pending(): number {
    return this.buffer.length + this.inFlight;
  }

  private tick(): void {
    if (this.buffer.length > 0 && !this.flushing && Date.now() >= this.retryAt) {
      void this.flush().catch(() => {});
    }
  }

  private drop(n: number, why: string): void {
    this.counters.dropped += n;
    const now = Date.now();
    if (now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      this.log(`usage-recorder: dropping usage events (${why}); ${this.counters.dropped} so far`);
    }
  }

  /**
   * Writes until the buffer is empty (a drain started by flush, the timer or close) or holds
   * less than a full batch (a drain started by a full batch), with up to `writers` batches in
   * flight. A writer takes a partial batch only in the first kind and only when no other is
   * writing (so concurrency never splits the stream into small batches); otherwise it waits for
   * the next batch to finish. The first failure stops
   * every writer (its batch goes back to the front of the buffer) and rejects the drain.
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
      (this.buffer.length >= (this.drainAll ? 1 : this.batchSize) || this.writing > 0) &&
      !this.drainFailed
    ) {
      if (this.writing > 0 && this.buffer.length < this.batchSize) {
        await new Promise<void>((resolve) => this.batchDone.push(resolve));
        continue;
      }
      const batch = this.buffer.splice(0, this.batchSize);
      this.inFlight += batch.length;
      this.writing++;
      try {
        await this.write(batch);
        this.consecutiveFailures = 0;
        this.retryAt = 0;
      } catch (e) {
        this.drainFailed = true;
        this.buffer = batch.concat(this.buffer); // keep order; fits: it was counted as pending
        this.counters.failedFlushes++;
        this.consecutiveFailures++;
        const backoff = Math.min(
          BACKOFF_MAX_MS,
          BACKOFF_MIN_MS * 2 ** (this.consecutiveFailures - 1),
        );
        this.retryAt = Date.now() + backoff;
        this.lastError = describeError(e);
        this.log(
          `usage-recorder: writing ${batch.length} usage events failed (${this.lastError}); ` +
            `${this.buffer.length} kept, retry in ${backoff} ms`,
        );
        throw e;
      } finally {
        this.inFlight -= batch.length;
        this.writing--;
        for (const wake of this.batchDone.splice(0)) wake();
      }
    }
  }

  private async write(batch: Row[]): Promise<void> {
    const db = typeof this.dbSource === "function" ? await this.dbSource() : this.dbSource;
    let written: number;
    try {
      written = await this.writeBatch(db, batch);
    } catch (e) {
      if (!isForeignKeyViolation(e)) throw e;
      // A key (or organization) was deleted after its events were recorded: drop those.
      const keyIds = [...new Set(batch.map((r) => r.apiKeyId))];
      const alive = await db.apiKey.findMany({
        where: { id: { in: keyIds } },
        select: { id: true, organizationId: true },
      });
      const live = new Set(alive.map((k) => `${k.id}/${k.organizationId}`));
      const kept = batch.filter((r) => live.has(`${r.apiKeyId}/${r.organizationId}`));
      this.counters.orphaned += batch.length - kept.length;
      if (kept.length === batch.length) throw e;
      written = kept.length > 0 ? await this.writeBatch(db, kept) : 0;
    }
    this.counters.written += written;
    this.counters.batches++;
  }

  /**
   * One statement (usageRollupRepository.insertBatch): insert the batch, add it to the rollups
   * and move each key's counters, all from the rows actually inserted.
   */
  private writeBatch(db: UsageDb, rows: Row[]): Promise<number> {
    return usageRollupRepository.insertBatch(db, rows);
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
 * about 10,000 with 500 and one; bench/usage-ingest.ts). On PGlite one connection serves every
 * query, so batches stay at 500 (a long write would hold up key verification) and one writer.
 */
function processDefaults(): UsageRecorderOptions {
  try {
    return databaseTarget().kind === "postgres" ? { batchSize: 5_000, writers: 2 } : {};
  } catch {
    return {};
  }
}

export function getUsageRecorder(): UsageRecorder {
  const h = holder();
  if (!h.recorder) {
    const recorder = new UsageRecorder(processDefaults());
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

/** Records through the process's recorder; see UsageRecorder.record. */
export function recordUsage(event: UsageEvent): boolean {
  return getUsageRecorder().record(event);
}
