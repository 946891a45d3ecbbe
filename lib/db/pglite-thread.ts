// The embedded database in a thread of its own (lib/db/pglite-thread-worker.mjs), reached from
// this thread through the part of PGlite's interface that Prisma's PGlite adapter and the
// migrations use: query, exec and interactive transactions. The server opens it this way
// (KEYWARD_DB_THREAD, on by default): PostgreSQL's WebAssembly then runs beside the thread that
// answers HTTP instead of on it. Short-lived processes (the CLI, tests looking at a folder) open
// PGlite in process, where a second thread would only cost its start.
//
// Semantics are PGlite's: one statement or transaction at a time, in the order sent (PGlite's
// queue, in the worker); a transaction holds the database until it ends. Rows travel as
// PostgreSQL's text and are parsed here with the caller's parsers over PGlite's own, so a
// result is what PGlite would have returned in process. A DatabaseError is rebuilt as PGlite's
// class, with its SQLSTATE and fields, so the adapter maps it as before.
import { existsSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { messages, type PGlite, types } from "@electric-sql/pglite";

type Parser = (x: string, typeId?: number) => unknown;
type Parsers = Record<number | string, Parser>;

interface Field {
  name: string;
  dataTypeID: number;
}
interface RawResult {
  fields: Field[];
  rows: unknown[][];
  affectedRows?: number;
}
interface QueryOptions {
  rowMode?: "array" | "object";
  parsers?: Parsers;
}
type SerializedError = Record<string, unknown> & {
  name: string;
  message: string;
  database: boolean;
};
type Reply = { req: number; ok: boolean; value?: unknown; error?: SerializedError };

/** The worker's script: beside this file in the source tree (see usage-writer.ts for why). */
export function pgliteThreadScript(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.cwd(), "lib/db/pglite-thread-worker.mjs");
}

export function pgliteThreadAvailable(): boolean {
  return existsSync(pgliteThreadScript());
}

function rebuildError(e: SerializedError): Error {
  if (e.database) {
    const { name, message, database: _, ...fields } = e;
    const error = new messages.DatabaseError(
      message,
      Number(fields.length ?? 0),
      name as ConstructorParameters<typeof messages.DatabaseError>[2],
    );
    return Object.assign(error, fields);
  }
  return Object.assign(new Error(e.message), { name: e.name });
}

/**
 * The error for a thread that is gone or closed: a DatabaseError with SQLSTATE 08006
 * (connection_failure), so the adapter and Prisma carry it as the database's, and
 * lib/db/errors.ts answers 503 DEPENDENCY_UNAVAILABLE instead of a 500.
 */
function unavailable(message: string): Error {
  return Object.assign(new messages.DatabaseError(message, 0, "error"), {
    code: "08006",
    severity: "FATAL",
  });
}

/** What the thread's client offers: the PGlite calls the adapter and the migrations make. */
export interface PGliteThreadClient {
  readonly waitReady: Promise<void>;
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<unknown>;
  exec(sql: string, options?: QueryOptions): Promise<unknown[]>;
  transaction<T>(callback: (tx: PGliteThreadTransaction) => Promise<T>): Promise<T>;
  /** Lets queued work finish (at most `graceMs`, default 10 s), closes PGlite, ends the thread. */
  close(graceMs?: number): Promise<void>;
  /** Ends the thread now: what is in flight fails. */
  terminate(): Promise<void>;
}

export interface PGliteThreadTransaction {
  readonly closed: boolean;
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<unknown>;
  exec(sql: string, options?: QueryOptions): Promise<unknown[]>;
  rollback(): Promise<void>;
}

export interface PGliteThreadOptions {
  dataDir: string;
  startParams?: string[];
}

/** Opens the folder in a new thread; `waitReady` settles once it is open (or failed to open). */
export function openPGliteThread(options: PGliteThreadOptions): PGliteThreadClient {
  const worker = new Worker(pgliteThreadScript(), {
    workerData: { dataDir: options.dataDir, startParams: options.startParams },
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextReq = 0;
  let nextTx = 0;
  let stopped: Error | undefined;
  /** PGlite's parsers plus the database's array types, as PGlite builds them at start. */
  const base: Parsers = { ...(types.parsers as Parsers) };
  const merged = new WeakMap<Parsers, Parsers>();

  let ready!: () => void;
  let notReady!: (e: Error) => void;
  const waitReady = new Promise<void>((resolve, reject) => {
    ready = resolve;
    notReady = reject;
  });
  waitReady.catch(() => {});

  const stop = (e: Error) => {
    stopped ??= e;
    notReady(e);
    for (const [, p] of waiting) p.reject(e);
    waiting.clear();
  };
  worker.on("message", (m: Reply | { op: "ready"; arrays: [number, number][] }) => {
    if ("op" in m) {
      if (m.op === "ready") {
        for (const [oid, typarray] of m.arrays) {
          if (typarray === null || oid === null) continue;
          base[typarray] = (x: string) => types.arrayParser(x, base[oid], typarray);
        }
        ready();
      } else {
        stop(rebuildError((m as unknown as { error: SerializedError }).error));
      }
      return;
    }
    const p = waiting.get(m.req);
    if (!p) return;
    waiting.delete(m.req);
    if (m.ok) p.resolve(m.value);
    else p.reject(rebuildError(m.error as SerializedError));
  });
  worker.on("error", (e) => stop(unavailable(`the database thread failed: ${e.message}`)));
  worker.on("exit", (code) => stop(unavailable(`the database thread stopped (exit ${code})`)));

  const call = <T>(message: Record<string, unknown>): Promise<T> => {
    if (stopped) return Promise.reject(stopped);
    const req = nextReq++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(req, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, req });
    });
  };

  const parsersFor = (own?: Parsers): Parsers => {
    if (!own) return base;
    let p = merged.get(own);
    if (!p) {
      p = { ...base, ...own };
      merged.set(own, p);
    }
    return p;
  };

  const parse = (r: RawResult, options?: QueryOptions) => {
    const parsers = parsersFor(options?.parsers);
    const fields = r.fields;
    const n = fields.length;
    const fns: (Parser | undefined)[] = fields.map((f) => parsers[f.dataTypeID]);
    const asObjects = options?.rowMode !== "array";
    const rows = r.rows.map((row) => {
      for (let i = 0; i < n; i++) {
        const v = row[i];
        const fn = fns[i];
        if (v !== null && fn) row[i] = fn(v as string, fields[i].dataTypeID);
      }
      if (!asObjects) return row;
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[fields[i].name] = row[i];
      return o;
    });
    return { fields, rows, affectedRows: r.affectedRows };
  };

  const query = async (tx: number | undefined, sql: string, params = [], o?: QueryOptions) =>
    parse(await call<RawResult>({ op: "query", sql, params, tx }), o);
  const exec = async (tx: number | undefined, sql: string, o?: QueryOptions) =>
    (await call<RawResult[]>({ op: "exec", sql, tx })).map((r) => parse(r, o));

  return {
    waitReady,
    query: (sql, params, o) => query(undefined, sql, params as [], o),
    exec: (sql, o) => exec(undefined, sql, o),
    async transaction<T>(callback: (tx: PGliteThreadTransaction) => Promise<T>): Promise<T> {
      const id = nextTx++;
      await call({ op: "begin", tx: id });
      let closed = false;
      const tx: PGliteThreadTransaction = {
        get closed() {
          return closed;
        },
        query: (sql, params, o) => query(id, sql, params as [], o),
        exec: (sql, o) => exec(id, sql, o),
        async rollback() {
          closed = true;
          await call({ op: "rollback", tx: id });
        },
      };
      let result: T;
      try {
        result = await callback(tx);
      } catch (e) {
        await call({ op: "end", tx: id, commit: false }).catch(() => {});
        throw e;
      }
      await call({ op: "end", tx: id, commit: !closed });
      return result;
    },
    async close(graceMs = 10_000) {
      // What is queued finishes first and PGlite closes the folder cleanly; a thread that does
      // not finish within graceMs is stopped (PostgreSQL recovers the folder at the next start).
      if (!stopped) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          call({ op: "close" }).catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, graceMs);
          }),
        ]);
        clearTimeout(timer);
      }
      stop(unavailable("the database is closed"));
      await worker.terminate();
    },
    async terminate() {
      stop(unavailable("the database thread was stopped"));
      await worker.terminate();
    },
  };
}

/** The client where the adapter and the migrations take a PGlite (they use only the above). */
export function asPGlite(client: PGliteThreadClient): PGlite {
  return client as unknown as PGlite;
}
