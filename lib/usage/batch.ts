// What the usage recorder keeps per event, and the batches it writes: columns, not objects.
//
// record() appends an event to a ring of preallocated columns (UsageRing): the id as 16 random
// bytes in one Uint8Array (random bytes are drawn 1,024 ids at a time, each used once), the numbers in typed
// arrays, and the strings as references in one array per column (the key and organization ids,
// the endpoint and the method are the route core's own strings, shared by every event; the
// address and user agent are the request's). Nothing per event is an object that lives until the
// flush: the old-generation garbage of one row object, its id string and its Date per verify is
// gone. A batch is taken from the ring as the same columns (UsageBatch), which is also what the
// write statement's unnest(...) takes and what a worker thread can be handed by structured clone.
//
// The normalization is toUsageRow's (lib/usage/event.ts), field by field, so a batch's rows are
// exactly the rows toUsageRow would have made; the uuid text of an id is made at write time.
import { randomFillSync } from "node:crypto";
import { MAX_EVENT_RESPONSE_TIME_MS } from "@/lib/validation/usage";
import {
  COST_RE,
  clip,
  int,
  isBillable,
  storable,
  type UsageEvent,
  type UsageRow,
  UUID_RE,
} from "./event";

/** A batch of normalized events as parallel columns (every array holds exactly `n`). */
export interface UsageBatch {
  n: number;
  /** 16 bytes per event: a version 4 uuid. */
  ids: Uint8Array;
  apiKeyId: string[];
  organizationId: string[];
  endpoint: string[];
  method: string[];
  statusCode: Int32Array;
  responseTimeMs: Int32Array;
  tokens: Int32Array;
  costUsd: string[];
  ipAddress: (string | null)[];
  userAgent: (string | null)[];
  errorCode: (string | null)[];
  errorMessage: (string | null)[];
  /** ms since the epoch. */
  createdAt: Float64Array;
  /** 1 billable, 0 not, -1 by the status (UsageEvent.billable absent). */
  billable: Int8Array;
}

/** The columns the write statement binds (usage-rollup-repository.ts insertBatchSql). */
export interface UsageColumns {
  id: string[];
  apiKeyId: string[];
  organizationId: string[];
  endpoint: string[];
  method: string[];
  statusCode: number[];
  responseTimeMs: number[];
  tokens: number[];
  costUsd: string[];
  ipAddress: (string | null)[];
  userAgent: (string | null)[];
  errorCode: (string | null)[];
  errorMessage: (string | null)[];
  createdAt: number[];
  billable: boolean[];
}

const STRING_COLUMNS = [
  "apiKeyId",
  "organizationId",
  "endpoint",
  "method",
  "costUsd",
  "ipAddress",
  "userAgent",
  "errorCode",
  "errorMessage",
] as const;
const NUMBER_COLUMNS = ["statusCode", "responseTimeMs", "tokens", "createdAt", "billable"] as const;

type StringColumn = (typeof STRING_COLUMNS)[number];
type NumberColumn = (typeof NUMBER_COLUMNS)[number];

function emptyBatch(n: number): UsageBatch {
  return {
    n,
    ids: new Uint8Array(n * 16),
    apiKeyId: new Array(n),
    organizationId: new Array(n),
    endpoint: new Array(n),
    method: new Array(n),
    statusCode: new Int32Array(n),
    responseTimeMs: new Int32Array(n),
    tokens: new Int32Array(n),
    costUsd: new Array(n),
    ipAddress: new Array(n),
    userAgent: new Array(n),
    errorCode: new Array(n),
    errorMessage: new Array(n),
    createdAt: new Float64Array(n),
    billable: new Int8Array(n),
  };
}

/** Whether record() can keep the event (toUsageRow's refusals: ids, status). */
export function isRecordable(e: UsageEvent): boolean {
  return (
    UUID_RE.test(e.apiKeyId) &&
    UUID_RE.test(e.organizationId) &&
    Number.isInteger(e.statusCode) &&
    e.statusCode >= 100 &&
    e.statusCode <= 999
  );
}

const ID_CHUNK = 1_024;

/**
 * A bounded FIFO of events in preallocated columns; grows by doubling up to `max` (the
 * recorder's buffer bound), so an idle recorder holds a few KiB, a busy one its bound.
 */
export class UsageRing {
  private cols: UsageBatch;
  private capacity: number;
  private head = 0;
  private size = 0;
  /** Random bytes for the next ids (slotId), used once each. */
  private readonly pool = new Uint8Array(16 * ID_CHUNK);
  private poolAt = 16 * ID_CHUNK;

  constructor(
    private readonly max: number,
    initial = 1_024,
  ) {
    this.capacity = Math.max(1, Math.min(max, initial));
    this.cols = emptyBatch(this.capacity);
  }

  get length(): number {
    return this.size;
  }

  /**
   * Appends a recordable event (isRecordable), normalized as toUsageRow does; false when full.
   * The event's id is drawn here. `now` is the time for an event without a valid createdAt.
   */
  push(e: UsageEvent, now: number): boolean {
    if (this.size >= this.capacity && !this.grow()) return false;
    const i = (this.head + this.size) % this.capacity;
    const c = this.cols;
    this.slotId(i);
    c.apiKeyId[i] = e.apiKeyId;
    c.organizationId[i] = e.organizationId;
    c.endpoint[i] = clip(e.endpoint, 512) ?? "";
    c.method[i] = clip(e.method, 16) ?? "";
    c.statusCode[i] = e.statusCode;
    c.responseTimeMs[i] = Math.min(MAX_EVENT_RESPONSE_TIME_MS, int(e.responseTimeMs));
    c.tokens[i] = int(e.tokens);
    c.costUsd[i] = e.costUsd !== undefined && COST_RE.test(e.costUsd) ? e.costUsd : "0";
    c.ipAddress[i] = storable(clip(e.ipAddress, 64));
    c.userAgent[i] = storable(clip(e.userAgent, 512));
    c.errorCode[i] = clip(e.errorCode, 64);
    c.errorMessage[i] = clip(e.errorMessage, 1000);
    const at = e.createdAt instanceof Date ? e.createdAt.getTime() : Number.NaN;
    c.createdAt[i] = Number.isNaN(at) ? now : at;
    c.billable[i] = typeof e.billable === "boolean" ? (e.billable ? 1 : 0) : -1;
    this.size++;
    return true;
  }

  /** The cost of the event last pushed (the spend caps' counter). */
  lastCost(): string {
    const i = (this.head + this.size - 1) % this.capacity;
    return this.cols.costUsd[i] as string;
  }

  /** Takes the oldest `n` events (at most all) out as a batch of their own. */
  take(n: number): UsageBatch {
    const count = Math.min(n, this.size);
    const out = emptyBatch(count);
    let done = 0;
    while (done < count) {
      const from = (this.head + done) % this.capacity;
      const run = Math.min(count - done, this.capacity - from);
      copyRun(this.cols, from, out, done, run);
      // Let go of the strings now (the ring otherwise keeps them until the slot is reused).
      for (const k of STRING_COLUMNS)
        this.cols[k].fill(undefined as unknown as string, from, from + run);
      done += run;
    }
    this.head = (this.head + count) % this.capacity;
    this.size -= count;
    if (this.size === 0) this.head = 0;
    return out;
  }

  /** Empties the ring (events lost at shutdown). */
  clear(): void {
    this.take(this.size);
  }

  private slotId(i: number): void {
    // Bytes come from a pool drawn ID_CHUNK ids at a time and are copied into the slot: drawing
    // into the ring itself would also redraw slots still waiting, whose bytes a later event in the
    // same slot would then reuse.
    if (this.poolAt >= this.pool.length) {
      randomFillSync(this.pool);
      this.poolAt = 0;
    }
    const ids = this.cols.ids;
    const pool = this.pool;
    const o = i * 16;
    const p = this.poolAt;
    for (let k = 0; k < 16; k++) ids[o + k] = pool[p + k] as number;
    this.poolAt = p + 16;
    ids[o + 6] = ((ids[o + 6] as number) & 0x0f) | 0x40; // version 4
    ids[o + 8] = ((ids[o + 8] as number) & 0x3f) | 0x80; // RFC 4122 variant
  }

  private grow(): boolean {
    if (this.capacity >= this.max) return false;
    const next = Math.min(this.max, this.capacity * 2);
    const cols = emptyBatch(next);
    const size = this.size;
    let done = 0;
    while (done < size) {
      const from = (this.head + done) % this.capacity;
      const run = Math.min(size - done, this.capacity - from);
      copyRun(this.cols, from, cols, done, run);
      done += run;
    }
    this.cols = cols;
    this.capacity = next;
    this.head = 0;
    return true;
  }
}

function copyRun(src: UsageBatch, from: number, dst: UsageBatch, to: number, run: number): void {
  dst.ids.set(src.ids.subarray(from * 16, (from + run) * 16), to * 16);
  for (const k of NUMBER_COLUMNS) {
    (dst[k] as Int32Array).set((src[k] as Int32Array).subarray(from, from + run), to);
  }
  for (const k of STRING_COLUMNS) {
    const s = src[k] as (string | null)[];
    const d = dst[k] as (string | null)[];
    for (let j = 0; j < run; j++) d[to + j] = s[from + j] as string | null;
  }
}

/** The rows at `idx` (ascending or not) as a batch of their own. */
export function selectRows(b: UsageBatch, idx: readonly number[]): UsageBatch {
  const out = emptyBatch(idx.length);
  for (let j = 0; j < idx.length; j++) copyRun(b, idx[j] as number, out, j, 1);
  return out;
}

/** Row indices 0 .. n - 1. */
export function allRows(b: UsageBatch): number[] {
  return Array.from({ length: b.n }, (_, i) => i);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The uuid text of row i's id. */
export function idOf(b: UsageBatch, i: number): string {
  const o = i * 16;
  const h = (k: number) => HEX[b.ids[o + k] as number] as string;
  return (
    `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-` +
    `${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`
  );
}

/** The write statement's columns for the rows at `idx` (default: all), in that order. */
export function columnsOf(b: UsageBatch, idx?: readonly number[]): UsageColumns {
  const rows = idx ?? allRows(b);
  const str = (k: StringColumn) => rows.map((i) => b[k][i] as string);
  const num = (k: NumberColumn) => rows.map((i) => b[k][i] as number);
  return {
    id: rows.map((i) => idOf(b, i)),
    apiKeyId: str("apiKeyId"),
    organizationId: str("organizationId"),
    endpoint: str("endpoint"),
    method: str("method"),
    statusCode: num("statusCode"),
    responseTimeMs: num("responseTimeMs"),
    tokens: num("tokens"),
    costUsd: str("costUsd"),
    ipAddress: rows.map((i) => b.ipAddress[i] ?? null),
    userAgent: rows.map((i) => b.userAgent[i] ?? null),
    errorCode: rows.map((i) => b.errorCode[i] ?? null),
    errorMessage: rows.map((i) => b.errorMessage[i] ?? null),
    createdAt: num("createdAt"),
    billable: rows.map((i) =>
      b.billable[i] === -1
        ? isBillable({ statusCode: b.statusCode[i] as number })
        : b.billable[i] === 1,
    ),
  };
}

/** The same columns from rows (usageRepository's writes, the seed). */
export function columnsOfRows(rows: readonly UsageRow[]): UsageColumns {
  const col = <T>(f: (r: UsageRow) => T): T[] => rows.map(f);
  return {
    id: col((r) => r.id),
    apiKeyId: col((r) => r.apiKeyId),
    organizationId: col((r) => r.organizationId),
    endpoint: col((r) => r.endpoint),
    method: col((r) => r.method),
    statusCode: col((r) => r.statusCode),
    responseTimeMs: col((r) => r.responseTimeMs),
    tokens: col((r) => r.tokens),
    costUsd: col((r) => r.costUsd),
    ipAddress: col((r) => r.ipAddress),
    userAgent: col((r) => r.userAgent),
    errorCode: col((r) => r.errorCode),
    errorMessage: col((r) => r.errorMessage),
    createdAt: col((r) => r.createdAt.getTime()),
    billable: col(isBillable),
  };
}
