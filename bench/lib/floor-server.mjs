// The floor (issue 18): the least a verify can cost on the same database. node:http, a POST with
// {"key": "..."}, SHA-256 of the key, one indexed SELECT on the real "ApiKey" table by its unique
// "keyHash" column (the column verify looks a key up by, lib/repositories/api-key-repository.ts),
// the answer kept 1 s in process, and a small fixed-shape JSON answer. No limits, no metering,
// no Redis. Run as its own process by bench/verify-bench.ts, one of:
//
//   FLOOR_DATA_DIR=<embedded data folder> PORT=3102 node bench/lib/floor-server.mjs
//   FLOOR_DATABASE_URL=postgresql://...   PORT=3102 node bench/lib/floor-server.mjs
//
// Embedded opens the folder's PGlite in this process (<folder>/pglite, the layout lib/db opens),
// so nothing else may have the folder open. PostgreSQL goes through a `pg` pool.
import { createHash } from "node:crypto";
import http from "node:http";
import path from "node:path";

const port = Number.parseInt(process.env.PORT || "3102", 10);
const CACHE_MS = 1000;
const SQL = 'SELECT "id", "status" FROM "ApiKey" WHERE "keyHash" = $1';

/** @type {(hash: string) => Promise<{ id: string, status: string } | undefined>} */
let lookup;
/** @type {() => Promise<void>} */
let close;
if (process.env.FLOOR_DATA_DIR) {
  const { PGlite } = await import("@electric-sql/pglite");
  const db = new PGlite(path.join(process.env.FLOOR_DATA_DIR, "pglite"));
  await db.waitReady;
  lookup = async (hash) => (await db.query(SQL, [hash])).rows[0];
  close = () => db.close();
} else if (process.env.FLOOR_DATABASE_URL) {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 4 });
  lookup = async (hash) => (await pool.query(SQL, [hash])).rows[0];
  close = () => pool.end();
} else {
  console.error("floor: set FLOOR_DATA_DIR or FLOOR_DATABASE_URL");
  process.exit(1);
}

const NOT_FOUND = { status: 404, body: JSON.stringify({ valid: false, code: "NOT_FOUND" }) };
const BAD_REQUEST = { status: 400, body: JSON.stringify({ valid: false, code: "BAD_REQUEST" }) };

/** hash -> { expires, answer }: the answer itself, or the lookup in flight (one per hash). */
const cache = new Map();

function answerFor(hash) {
  const now = Date.now();
  const hit = cache.get(hash);
  if (hit && hit.expires > now) return hit.answer;
  const answer = lookup(hash).then((row) =>
    row && row.status === "ACTIVE"
      ? { status: 200, body: JSON.stringify({ valid: true, code: "VALID", keyId: row.id }) }
      : NOT_FOUND,
  );
  const entry = { expires: now + CACHE_MS, answer };
  cache.set(hash, entry);
  answer.then(
    (a) => {
      // Keep the resolved answer (no promise hop on a hit); a failed lookup is not cached.
      if (cache.get(hash) === entry) entry.answer = a;
    },
    () => {
      if (cache.get(hash) === entry) cache.delete(hash);
    },
  );
  return answer;
}

function send(res, a) {
  res.writeHead(a.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(a.body),
  });
  res.end(a.body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let key;
    try {
      key = JSON.parse(Buffer.concat(chunks).toString("utf8")).key;
    } catch {
      key = undefined;
    }
    if (typeof key !== "string" || key.length === 0) return send(res, BAD_REQUEST);
    const hash = createHash("sha256").update(key, "utf8").digest("hex");
    const a = answerFor(hash);
    if (a instanceof Promise) {
      a.then(
        (x) => send(res, x),
        (e) => {
          console.error(`floor: lookup failed: ${e?.message ?? e}`);
          send(res, { status: 500, body: '{"valid":false,"code":"INTERNAL"}' });
        },
      );
    } else send(res, a);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`floor: ready on http://127.0.0.1:${port}`));
process.on("SIGTERM", () => {
  server.close(() => close().finally(() => process.exit(0)));
  server.closeAllConnections?.();
});
