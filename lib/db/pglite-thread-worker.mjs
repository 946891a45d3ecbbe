// The embedded database's own thread (started by lib/db/pglite-thread.ts). PGlite runs here, so
// its WebAssembly (every statement, the usage batches above all) no longer runs on the thread that
// answers HTTP. This thread owns the folder: it is the only PGlite on it in the process, and the
// process holds the folder's owner lock (lib/db/owner-lock.ts) as before.
//
// It only runs what it is sent, in order, through PGlite's own queue; rows go back as PostgreSQL's
// text (every parser here returns its input), and the main thread parses them with the parsers the
// caller gave, as PGlite would have. Plain JavaScript, loaded by path: it runs the same under
// server.ts (tsx), Next's bundles and vitest.
//
// Messages in: {op: "query", req, sql, params, tx?}, {op: "exec", req, sql, tx?},
// {op: "begin", req, tx}, {op: "rollback", req, tx}, {op: "end", req, tx, commit},
// {op: "close", req}. Out: {op: "ready", arrays} once open, then {req, ok, value | error}.
import { parentPort, workerData } from "node:worker_threads";
import { messages, PGlite } from "@electric-sql/pglite";

const { dataDir, startParams } = workerData;

/** A DatabaseError's fields, so the main thread can rebuild it (the adapter maps them). */
const ERROR_FIELDS = [
  "length",
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
];

function serializeError(e) {
  const out = {
    name: e?.name ?? "Error",
    message: String(e?.message ?? e),
    database: e instanceof messages.DatabaseError,
  };
  for (const f of ERROR_FIELDS) if (e?.[f] !== undefined) out[f] = e[f];
  return out;
}

let db;
let raw;
/** Open transactions by id: PGlite's transaction object, what ends it, and its outcome. */
const txs = new Map();

function reply(req, promise) {
  promise.then(
    (value) => parentPort.postMessage({ req, ok: true, value }),
    (e) => parentPort.postMessage({ req, ok: false, error: serializeError(e) }),
  );
}

function plain(result) {
  return { fields: result.fields, rows: result.rows, affectedRows: result.affectedRows };
}

function target(tx) {
  if (tx === undefined) return db;
  const open = txs.get(tx);
  if (!open) throw new Error(`transaction ${tx} is not open`);
  return open.tx;
}

/** Starts a transaction (waiting its turn in PGlite's queue); answers once BEGIN has run. */
function begin(id) {
  return new Promise((started, failed) => {
    let end;
    const ended = new Promise((resolve) => {
      end = resolve;
    });
    const outcome = db.transaction(async (tx) => {
      txs.set(id, { tx, end, outcome });
      started(null);
      await ended;
    });
    // A failed BEGIN answers "begin"; a failed COMMIT answers "end".
    outcome.catch(failed);
  });
}

/** Commits (or rolls back) and answers with the outcome: a failed COMMIT is an error here. */
async function end(id, commit) {
  const open = txs.get(id);
  if (!open) throw new Error(`transaction ${id} is not open`);
  try {
    if (open.rollingBack) await open.rollingBack;
    else if (!commit && !open.tx.closed) await open.tx.rollback();
    open.end();
    await open.outcome;
  } finally {
    txs.delete(id);
  }
  return null;
}

parentPort.on("message", (m) => {
  switch (m.op) {
    case "query":
      reply(
        m.req,
        (async () =>
          plain(await target(m.tx).query(m.sql, m.params, { rowMode: "array", parsers: raw })))(),
      );
      break;
    case "exec":
      reply(
        m.req,
        (async () => (await target(m.tx).exec(m.sql, { parsers: raw })).map((r) => plain(r)))(),
      );
      break;
    case "begin":
      reply(m.req, begin(m.tx));
      break;
    case "rollback":
      reply(
        m.req,
        (async () => {
          const open = txs.get(m.tx);
          if (!open) throw new Error(`transaction ${m.tx} is not open`);
          open.rollingBack ??= open.tx.rollback();
          await open.rollingBack;
          return null;
        })(),
      );
      break;
    case "end":
      reply(m.req, end(m.tx, m.commit));
      break;
    case "close":
      reply(
        m.req,
        (async () => {
          await db.close();
          return null;
        })(),
      );
      break;
  }
});

try {
  db = new PGlite(dataDir, startParams ? { startParams } : {});
  await db.waitReady;
  // Every type PGlite would parse, returned as its text instead (the main thread parses).
  raw = Object.fromEntries(Object.keys(db.parsers).map((oid) => [oid, (x) => x]));
  // The array types PGlite found in this database (as its _initArrayTypes does), so the main
  // thread builds the same array parsers.
  const arrays = await db.query(
    `SELECT b.oid, b.typarray FROM pg_catalog.pg_type a
       LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem
      WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray ORDER BY b.oid`,
    [],
    { rowMode: "array" },
  );
  parentPort.postMessage({ op: "ready", arrays: arrays.rows });
} catch (e) {
  parentPort.postMessage({ op: "failed", error: serializeError(e) });
}
