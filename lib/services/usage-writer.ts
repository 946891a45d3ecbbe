// The usage recorder's writer on PostgreSQL: a worker thread (usage-writer-worker.mjs) with its
// own small `pg` pool runs the batches' statements, so the request thread no longer pays for
// building the parameters, pg's serialization, Prisma and the garbage of 5,000-row batches.
// The statement is the one usage-rollup-repository.ts builds (its text and fixed parameters are
// handed to the thread once); the recorder's failure policy runs here, unchanged, asking the
// thread for each piece (see UsageSink in usage-recorder.ts).
//
// A batch's columns are posted once (structured clone: typed arrays and string arrays, no row
// objects); the thread keeps them until the recorder releases the batch, so the halves of a
// refused batch travel as row indices only. The thread holds the process open only while it
// has work: an idle recorder never keeps a process from exiting.
import { existsSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { config } from "@/lib/config";
import { insertBatchSql } from "@/lib/repositories/usage-rollup-repository";
import type { UsageBatch, UsageColumns } from "@/lib/usage/batch";
import { UNBILLED_STATUS_CODES } from "@/lib/usage/event";
import type { UsageSink } from "./usage-recorder";

export interface WorkerSinkOptions {
  url: string;
  /** Connections of the thread's pool (the recorder's writers). */
  poolSize?: number;
  connectMs?: number;
  queryMs?: number;
}

/**
 * The worker's script. Resolved from the app's directory (process.cwd(), as server.ts and Next
 * run), not from this module: Next bundles this module into its own chunks, where neither
 * import.meta.url nor __dirname points into lib/. KEYWARD_USAGE_WORKER (a path to a .mjs file) overrides it.
 */
export function usageWorkerScript(): string {
  const worker = config().KEYWARD_USAGE_WORKER;
  return (
    (worker?.endsWith(".mjs") ? worker : null) ??
    path.resolve(/*turbopackIgnore: true*/ process.cwd(), "lib/services/usage-writer-worker.mjs")
  );
}

/** Whether the worker's script is there to start (else the recorder writes on this thread). */
export function usageWorkerAvailable(): boolean {
  return existsSync(usageWorkerScript());
}

const EMPTY: UsageColumns = {
  id: [],
  apiKeyId: [],
  organizationId: [],
  endpoint: [],
  method: [],
  statusCode: [],
  responseTimeMs: [],
  tokens: [],
  costUsd: [],
  ipAddress: [],
  userAgent: [],
  errorCode: [],
  errorMessage: [],
  createdAt: [],
  billable: [],
};

type Reply = { req: number; ok: boolean; value?: unknown; error?: WorkerError };
type WorkerError = { name: string; code?: string; message: string };

/** A UsageSink whose statements run in a worker thread with its own pg pool. */
export function workerSink(options: WorkerSinkOptions): UsageSink {
  const statement = insertBatchSql(EMPTY);
  // The 15 column arrays come first; the rest (latency thresholds, the all-keys id) are fixed.
  const extra = statement.values.slice(15);
  let worker: Worker | undefined;
  let nextReq = 0;
  let nextBatch = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const sent = new WeakMap<UsageBatch, { id: number; by: Worker | undefined }>();
  let closed = false;

  const start = (): Worker => {
    const w = new Worker(usageWorkerScript(), {
      workerData: {
        url: options.url,
        sql: statement.text,
        extra,
        unbilled: UNBILLED_STATUS_CODES,
        poolSize: options.poolSize ?? 2,
        connectMs: options.connectMs ?? 3_000,
        queryMs: options.queryMs ?? 15_000,
      },
    });
    w.unref();
    w.on("message", (m: Reply) => {
      const p = waiting.get(m.req);
      if (!p) return;
      waiting.delete(m.req);
      if (waiting.size === 0) w.unref();
      if (m.ok) p.resolve(m.value);
      else {
        const e = m.error as WorkerError;
        p.reject(Object.assign(new Error(e.message), { name: e.name, code: e.code }));
      }
    });
    const fail = (e: Error) => {
      // The thread died: what it was writing fails as the database's failure (retried later).
      if (worker === w) worker = undefined;
      for (const [, p] of waiting) {
        p.reject(
          Object.assign(new Error(`usage writer thread stopped: ${e.message}`), {
            code: "ECONNRESET",
          }),
        );
      }
      waiting.clear();
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`exit ${code}`)));
    return w;
  };

  const call = <T>(message: Record<string, unknown>): Promise<T> => {
    if (closed) return Promise.reject(new Error("usage writer closed"));
    worker ??= start();
    const w = worker;
    const req = nextReq++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(req, { resolve: resolve as (v: unknown) => void, reject });
      w.ref();
      w.postMessage({ ...message, req });
    });
  };

  return {
    insert(batch, idx) {
      // The columns travel with the batch's first statement to this thread (a restarted thread
      // holds none of the old one's batches).
      if (!closed) worker ??= start();
      let held = sent.get(batch);
      const first = held?.by !== worker;
      if (first) {
        held = { id: nextBatch++, by: worker };
        sent.set(batch, held);
      }
      return call<number>({
        op: "insert",
        id: held?.id,
        batch: first ? batch : undefined,
        idx: idx.length === batch.n ? undefined : idx,
      });
    },
    answers() {
      return call<boolean>({ op: "answers" }).catch(() => false);
    },
    liveKeys(ids) {
      return call({ op: "liveKeys", ids });
    },
    release(batch) {
      const held = sent.get(batch);
      if (!held) return;
      sent.delete(batch);
      if (held.by === worker) worker?.postMessage({ op: "release", id: held.id });
    },
    async close() {
      const w = worker;
      if (!w) {
        closed = true;
        return;
      }
      await call({ op: "close" }).catch(() => {});
      closed = true;
      worker = undefined;
      await w.terminate();
    },
  };
}
