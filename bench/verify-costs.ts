// What one verify costs, step by step, in this process without HTTP (run by hand):
//
//   npx tsx bench/verify-costs.ts [--n 20000]
//
// Opens a fresh embedded database in a temporary folder (the server's own setup: file PGlite,
// in-process limiter and quota, the process's usage recorder), makes an organization and a key
// through the services, then times each piece of POST /api/v1/keys/verify's path in a loop and
// prints microseconds per call. The HTTP layer's own cost is what bare node:http costs in
// verify-bench.ts; the rest of a lean-lane request is below.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { n: { type: "string", default: "20000" } } });
const N = Number(values.n);

// The process's database is the embedded one in a folder of its own (set before lib/db loads).
process.env.KEYWARD_DATA_DIR = mkdtempSync(path.join(os.tmpdir(), "kw-costs-"));
delete process.env.DATABASE_URL;
delete process.env.REDIS_URL;
delete process.env.RATE_LIMIT_STORE;

const { closeDatabase, getDb } = await import("@/lib/db");
const { hashKey } = await import("@/lib/keys");
const { createOrganization } = await import("@/lib/services/org-service");
const { createKey } = await import("@/lib/services/keys");
const { verifyKey, toVerifyResult } = await import("@/lib/services/verify");
const { newRequestId, runRoute } = await import("@/lib/http/route");
const { verifyRoute } = await import("@/lib/http/routes");
const { getUsageRecorder, UsageRecorder } = await import("@/lib/services/usage-recorder");
const { VerifyBodySchema, VerifyResultSchema } = await import("@/lib/validation/keys");
const { limit, POLICIES } = await import("@/lib/ratelimit/policies");
const { getRateLimiter } = await import("@/lib/ratelimit");
const { getKeyCache } = await import("@/lib/services/key-cache");

const db = await getDb();
const tag = randomBytes(4).toString("hex");
const org = await createOrganization(
  db,
  { name: `Costs ${tag}`, email: `costs-${tag}@example.com`, plan: "ENTERPRISE" },
  { type: "system" },
);
const { key, apiKey } = await createKey(
  db,
  { organizationId: org.id, name: "costs", environment: "live", rateLimitPerMinute: 1_000_000 },
  { type: "system" },
);
const body = JSON.stringify({ key });

function request() {
  const headers = new Map<string, string>([
    ["content-type", "application/json"],
    ["content-length", String(body.length)],
    ["host", "127.0.0.1:3000"],
    ["user-agent", "autocannon"],
    ["x-forwarded-for", "127.0.0.1"],
  ]);
  return {
    method: "POST",
    url: new URL("http://127.0.0.1:3000/api/v1/keys/verify"),
    headers: { get: (n: string) => headers.get(n.toLowerCase()) ?? null },
    ip: "127.0.0.1",
    readBody: async () => body,
  };
}

const rows: Array<[string, number]> = [];
async function time(name: string, fn: () => unknown, n = N): Promise<number> {
  for (let i = 0; i < Math.min(2_000, n); i++) await fn(); // warm-up: JIT, caches
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const us = ((performance.now() - t0) * 1000) / n;
  rows.push([name, us]);
  return us;
}

const deps = { db: async () => db };
const outcome = await verifyKey(db, { key, endpoint: "/api/v1/keys/verify", ip: "127.0.0.1" });
if (!outcome.valid) throw new Error(`key not valid: ${outcome.code}`);
const result = toVerifyResult(outcome);

await time("hashKey (SHA-256 of the key)", () => hashKey(key));
await time("newRequestId (pooled random bytes)", () => newRequestId());
await time("key cache get (hit)", () => getKeyCache().get(hashKey(key)));
await time("rate limit, in-process store (limit())", () =>
  limit(POLICIES.apiKey, apiKey.id, { limit: 1_000_000 }),
);
await time("monthly quota, in-process counter", () =>
  getRateLimiter().quota.consume(org.id, 100_000_000),
);
await time("zod: VerifyBodySchema.parse", () => VerifyBodySchema.parse({ key }));
await time("zod: VerifyResultSchema.parse", () => VerifyResultSchema.parse(result));
await time("JSON.parse(body) + JSON.stringify(result)", () =>
  JSON.stringify(JSON.parse(body) && result),
);
await time("verifyKey (cache hit, limiter, quota)", () =>
  verifyKey(db, { key, endpoint: "/api/v1/keys/verify", ip: "127.0.0.1" }),
);

// The whole route core. First with metering only buffered: a recorder that writes nothing until
// the loop ends is put where getUsageRecorder() finds it (the process holder). Then with the
// process's own recorder as the server runs it: record() is synchronous, the batches it triggers
// are written to PGlite in this same thread, so the loop's time includes them.
const holderKey = Symbol.for("keyward.usage-recorder");
const holder = (globalThis as unknown as Record<symbol, { recorder?: unknown }>)[holderKey] ?? {};
(globalThis as unknown as Record<symbol, unknown>)[holderKey] = holder;
const quiet = new UsageRecorder({
  db,
  flushIntervalMs: 0,
  batchSize: 2 * N + 10,
  maxBuffer: 2 * N + 10,
});
holder.recorder = quiet;
await time("runRoute(verifyRoute), metering buffered, not written", () =>
  runRoute(verifyRoute, request(), {}, deps),
);
holder.recorder = undefined;
await quiet.close();

const recorder = getUsageRecorder();
await recorder.flush();
const before = recorder.stats();
const t0 = performance.now();
for (let i = 0; i < N; i++) await runRoute(verifyRoute, request(), {}, deps);
await recorder.flush();
const totalMs = performance.now() - t0;
const after = recorder.stats();
const written = after.written - before.written;
const batches = after.batches - before.batches;
rows.push([
  `runRoute(verifyRoute) with the process's recorder, writes included (${written} events in ${batches} batches, ${(written / Math.max(1, batches)).toFixed(1)} per batch)`,
  (totalMs * 1000) / N,
]);

// Metering alone: the same events into a recorder of its own, flushed by hand.
const ev = {
  apiKeyId: apiKey.id,
  organizationId: org.id,
  endpoint: "/api/v1/keys/verify",
  method: "POST",
  statusCode: 200,
  responseTimeMs: 0,
  ipAddress: "127.0.0.1",
  userAgent: "autocannon",
  errorCode: null,
};
const pushOnly = new UsageRecorder({
  db,
  flushIntervalMs: 0,
  batchSize: 10 * N,
  maxBuffer: 10 * N,
});
await time("usage record() only (validate + buffer push, no write)", () => pushOnly.record(ev), N);
// The write cost per event depends on the batch size: a fixed cost per statement plus a cost
// per row (the raw insert and its rollups).
for (const batchSize of [10, 100, 500, 2000]) {
  const own = new UsageRecorder({ db, flushIntervalMs: 0, batchSize, maxBuffer: N + 1 });
  const n = batchSize === 10 ? Math.min(N, 2_000) : N;
  const f0 = performance.now();
  for (let i = 0; i < n; i++) own.record(ev);
  await own.flush();
  const perEvent = ((performance.now() - f0) * 1000) / n;
  rows.push([
    `usage record() + write to PGlite in batches of ${batchSize}, per event (= ${((perEvent * batchSize) / 1000).toFixed(1)} ms per batch)`,
    perEvent,
  ]);
  await own.close();
}

console.log(`| step | microseconds per call |\n| --- | ---: |`);
for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(1)} |`);
console.log(
  `\nnode ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`,
);
await recorder.close();
await getRateLimiter().close();
await closeDatabase();
process.exit(0);
