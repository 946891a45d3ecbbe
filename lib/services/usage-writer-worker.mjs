// The usage recorder's writer thread on PostgreSQL (started by usage-writer.ts). The recorder on
// the main thread keeps everything that decides (buffer bound, batches, retries and backoff,
// splitting a refused batch, counting drops); this thread only does the work that used to cost
// the request thread: turning a batch's columns into the statement's parameters (uuid text,
// PostgreSQL array literals), running the statement with its own small `pg` pool, and the
// garbage that makes. Plain JavaScript, loaded by path: it runs the same under `next start`'s
// bundles, server.ts under tsx, and vitest.
//
// Messages in: {op: "insert", req, id, batch?, idx?} (the batch's columns travel once, with its
// first statement; pieces of it name their rows by index), {op: "release", id}, {op: "answers",
// req}, {op: "liveKeys", req, ids}, {op: "close", req}. Out: {req, ok, value | error}, where an
// error carries only its name, code (SQLSTATE or errno) and first line: never a row.
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";

const { url, sql, extra, unbilled, poolSize, connectMs, queryMs } = workerData;
const pool = new pg.Pool({
  connectionString: url,
  max: poolSize,
  connectionTimeoutMillis: connectMs,
  query_timeout: queryMs,
  keepAlive: true,
  // Names the thread's connections in pg_stat_activity (tests/api/metering-postgres.test.ts).
  application_name: "keyward-usage-writer",
});
// An idle client's error (the server went away) must not kill the thread: the next query fails
// instead, and the recorder retries.
pool.on("error", () => {});

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const UNBILLED = new Set(unbilled);

function uuid(ids, i) {
  const o = i * 16;
  let s = "";
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) s += "-";
    s += HEX[ids[o + k]];
  }
  return s;
}

/** The statement's 15 column parameters for the whole batch (usage-rollup-repository.ts). */
function columns(b) {
  const n = b.n;
  const id = new Array(n);
  const at = new Array(n);
  const bill = new Array(n);
  const status = Array.from(b.statusCode);
  for (let i = 0; i < n; i++) {
    id[i] = uuid(b.ids, i);
    at[i] = b.createdAt[i];
    bill[i] = b.billable[i] === -1 ? !UNBILLED.has(status[i]) : b.billable[i] === 1;
  }
  return [
    id,
    b.apiKeyId,
    b.organizationId,
    b.endpoint,
    b.method,
    status,
    Array.from(b.responseTimeMs),
    Array.from(b.tokens),
    b.costUsd,
    b.ipAddress.map((v) => v ?? null),
    b.userAgent.map((v) => v ?? null),
    b.errorCode.map((v) => v ?? null),
    b.errorMessage.map((v) => v ?? null),
    at,
    bill,
  ];
}

/** Batches whose statements may still come (the recorder releases them). */
const batches = new Map();

async function insert({ id, batch, idx }) {
  let cols = batches.get(id);
  if (!cols) {
    if (!batch)
      throw Object.assign(new Error("usage batch not held by the writer"), { code: "KW001" });
    cols = columns(batch);
    batches.set(id, cols);
  }
  const params = idx ? cols.map((c) => idx.map((i) => c[i])) : cols;
  const result = await pool.query(sql, [...params, ...extra]);
  return Number(result.rows[0]?.inserted ?? 0);
}

function errorOf(e) {
  const first = String(e?.message ?? e)
    .split("\n")
    .find((l) => l.trim())
    ?.slice(0, 160);
  return { name: e?.name ?? "Error", code: e?.code, message: first ?? "" };
}

const ops = {
  insert,
  async answers() {
    try {
      await pool.query("SELECT 1");
      return true;
    } catch {
      return false;
    }
  },
  async liveKeys({ ids }) {
    const r = await pool.query(
      'SELECT id::text AS id, "organizationId"::text AS "organizationId" FROM "ApiKey" WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return r.rows;
  },
  async close() {
    batches.clear();
    await pool.end();
    return true;
  },
};

parentPort.on("message", async (m) => {
  if (m.op === "release") {
    batches.delete(m.id);
    return;
  }
  try {
    const value = await ops[m.op](m);
    parentPort.postMessage({ req: m.req, ok: true, value });
  } catch (e) {
    parentPort.postMessage({ req: m.req, ok: false, error: errorOf(e) });
  }
});
