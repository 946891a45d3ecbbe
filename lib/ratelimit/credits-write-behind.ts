// Credits on the embedded database: the live balances in this process, written to the
// KeyCreditBalance table behind the spends, in batches (issue 16).
//
// The embedded default is one process (the data folder has one owner, lib/db/owner-lock.ts), so
// the balance this process holds is the only one: a spend is decided in memory, synchronously
// (nothing interleaves between the check and the spend, like MemoryCreditStore), and costs no
// statement. A key's balance is read from the table on its first use (one SELECT; concurrent
// first uses share it); the changed balances are written every `flushMs` in one statement, and
// at shutdown (the limiter closes before the database does, lib/ratelimit/index.ts).
//
// What this trades: a crash (SIGKILL, power loss) loses the spends of the last `flushMs`, which
// the key may then spend again after the restart. A clean stop (SIGTERM) loses nothing.
// KEYWARD_CREDITS_FLUSH_MS=0 turns this off: every spend is one durable UPDATE before verify
// answers (PostgresCreditStore), at about 12x the verify's CPU on PGlite (docs/benchmarks.md).
//
// Setting a balance (a PATCH, a create or rotate) and forgetting one are written through, in
// order with the batches, so a batch taken before a PATCH never lands after it. A batch writes
// only rows whose key still exists, so one deleted key cannot fail another key's write; a batch
// that fails is retried with the next one, and nothing is dropped.

import type { Tx } from "@/lib/db";
import {
  type CreditPlan,
  type CreditResult,
  type CreditStore,
  MemoryCreditStore,
  PostgresCreditStore,
  validateCost,
} from "./credits";
import type { Clock } from "./types";

/** Rows per INSERT of a batch. */
const CHUNK = 1000;

export interface WriteBehindCreditOptions {
  db: Tx | (() => Promise<Tx>);
  now?: Clock;
  /** How long a changed balance may wait in memory before it is written (ms, > 0). */
  flushMs?: number;
  log?: (message: string) => void;
}

export class WriteBehindCreditStore implements CreditStore {
  private readonly memory: MemoryCreditStore;
  private readonly durable: PostgresCreditStore;
  private readonly dbSource: Tx | (() => Promise<Tx>);
  private readonly flushMs: number;
  private readonly log: (message: string) => void;
  /** Keys whose balance this process holds (a key without a row: held as "none yet"). */
  private readonly loaded = new Set<string>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Keys whose balance changed since it was last written. */
  private dirty = new Set<string>();
  /** The table's writes, one after the other (batches, sets, forgets). */
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: WriteBehindCreditOptions) {
    this.dbSource = options.db;
    this.memory = new MemoryCreditStore({ now: options.now });
    this.durable = new PostgresCreditStore({ db: options.db, now: options.now });
    this.flushMs = options.flushMs ?? 1000;
    if (!(this.flushMs > 0)) throw new RangeError("flushMs must be > 0");
    this.log = options.log ?? ((m) => console.error(m));
  }

  private db(): Promise<Tx> {
    return typeof this.dbSource === "function" ? this.dbSource() : Promise.resolve(this.dbSource);
  }

  /** Reads the balances of the keys this process does not hold yet (one SELECT for all). */
  private async load(keyIds: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const missing: string[] = [];
    for (const id of keyIds) {
      if (this.loaded.has(id)) continue;
      const pending = this.loading.get(id);
      if (pending) waits.push(pending);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const read = this.read(missing).finally(() => {
        for (const id of missing) this.loading.delete(id);
      });
      for (const id of missing) this.loading.set(id, read);
      waits.push(read);
    }
    await Promise.all(waits);
  }

  private async read(keyIds: string[]): Promise<void> {
    const stored = await this.durable.read(keyIds);
    for (const id of keyIds) {
      // A set() or a spend while the SELECT ran holds the newer balance: keep it.
      if (this.loaded.has(id)) continue;
      const r = stored.get(id);
      if (r) this.memory.restore(id, r);
      this.loaded.add(id);
    }
  }

  private changed(keyId: string): void {
    this.dirty.add(keyId);
    if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  async spend(keyId: string, plan: CreditPlan, cost: number): Promise<CreditResult> {
    validateCost(cost);
    if (!this.loaded.has(keyId)) await this.load([keyId]);
    const before = this.memory.stored(keyId);
    const r = this.memory.spendSync(keyId, plan, cost);
    if (r.allowed || !before) this.changed(keyId);
    return r;
  }

  async refund(keyId: string, plan: CreditPlan, cost: number): Promise<void> {
    if (!this.loaded.has(keyId)) await this.load([keyId]);
    await this.memory.refund(keyId, plan, cost);
    this.changed(keyId);
  }

  async peek(entries: readonly { keyId: string; plan: CreditPlan }[]) {
    await this.load(entries.map((e) => e.keyId));
    return this.memory.peek(entries);
  }

  async set(keyId: string, plan: CreditPlan, remaining: number): Promise<void> {
    await this.memory.set(keyId, plan, remaining);
    this.loaded.add(keyId);
    this.dirty.delete(keyId);
    await this.enqueue(() => this.durable.set(keyId, plan, remaining));
  }

  async forget(keyId: string): Promise<void> {
    await this.memory.forget(keyId);
    this.loaded.add(keyId); // held as "none": the row is being deleted
    this.dirty.delete(keyId);
    await this.enqueue(() => this.durable.forget(keyId));
  }

  /** Runs a write after the ones before it; its failure is the caller's, not the chain's. */
  private enqueue(write: () => Promise<void>): Promise<void> {
    const done = this.writes.then(write);
    this.writes = done.catch(() => {});
    return done;
  }

  /** Writes every changed balance now (the timer's job; tests and close call it too). */
  flush(): Promise<void> {
    return this.enqueue(async () => {
      if (this.dirty.size === 0) return;
      const batch = this.dirty;
      this.dirty = new Set();
      try {
        await this.write([...batch]);
      } catch (e) {
        // Kept for the next batch (a newer change to the same key is already in memory).
        for (const id of batch) this.dirty.add(id);
        this.log(
          `credits: writing ${batch.size} balances failed, retrying with the next batch: ${
            e instanceof Error ? e.message : String(e)
          }`,
        );
        if (!this.closed) this.changed([...batch][0] as string);
      }
    }).catch(() => {});
  }

  private async write(keyIds: string[]): Promise<void> {
    const db = await this.db();
    for (let i = 0; i < keyIds.length; i += CHUNK) {
      const ids: string[] = [];
      const remaining: number[] = [];
      const periods: string[] = [];
      for (const id of keyIds.slice(i, i + CHUNK)) {
        const s = this.memory.stored(id);
        if (!s) continue; // forgotten since
        ids.push(id);
        remaining.push(s.remaining);
        periods.push(s.period);
      }
      if (ids.length === 0) continue;
      // Only keys that still exist: a key deleted since its spend must not fail the batch.
      await db.$executeRaw`
        INSERT INTO "KeyCreditBalance" ("apiKeyId", "remaining", "period", "updatedAt")
        SELECT b."id", b."remaining", b."period", (now() AT TIME ZONE 'UTC')
        FROM unnest(${ids}::uuid[], ${remaining}::int[], ${periods}::text[])
          AS b("id", "remaining", "period")
        JOIN "ApiKey" k ON k."id" = b."id"
        ON CONFLICT ("apiKeyId") DO UPDATE
          SET "remaining" = EXCLUDED."remaining", "period" = EXCLUDED."period",
              "updatedAt" = EXCLUDED."updatedAt"`;
    }
  }

  /** Balances changed and not yet written (the metric and tests). */
  get pending(): number {
    return this.dirty.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.writes;
    if (this.dirty.size > 0) {
      this.log(`credits: ${this.dirty.size} balances could not be written before shutdown`);
    }
    await this.memory.close();
  }
}
