// CPU per metered verify of the real server (lean lane), from /proc: the request thread's
// (/proc/<pid>/task/<pid>/stat) and the whole process's (/proc/<pid>/stat, every thread),
// over `--amount` verifies sent by autocannon plus 2.5 s for the last batch to be written, after
// a warm-up. Checks afterwards (SIGTERM flushes the recorder) that every verify was metered once:
// usage rows = requestCount = sent.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 \
//     npx tsx bench/metering-server-cpu.ts --backend postgres [--worker on|off] [--amount 30000]
//   npx tsx bench/metering-server-cpu.ts --backend embedded [--amount 20000]
//
// --worker off starts the server with KEYWARD_USAGE_WORKER=off (batches written on the request
// thread, as before the worker thread).
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import autocannon from "autocannon";
import { createPostgresDatabase } from "@/tests/helpers/db";
import { type Backend, countMetered, createBenchKey, startKeyward } from "./lib/keyward";
import { parseArgs } from "./usage-generator";

function cpuMs(pid: number, tid?: number): number {
  const file = tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`;
  const fields = readFileSync(file, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function main() {
  const args = parseArgs();
  const amount = Number(args.amount ?? 30_000);
  const connections = Number(args.connections ?? 20);
  const worker = String(args.worker ?? "on");
  let backend: Backend = { kind: "embedded" };
  let drop: (() => Promise<void>) | undefined;
  if (args.backend === "postgres") {
    const db = await createPostgresDatabase();
    drop = db.drop;
    backend = {
      kind: "postgres",
      databaseUrl: db.url,
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    };
  }
  const s = await startKeyward(backend, {
    lean: true,
    env: worker === "off" ? { KEYWARD_USAGE_WORKER: "off" } : {},
  });
  try {
    const key = await createBenchKey(s, "metering-cpu");
    const pid = s.server.proc.pid as number;
    const base = {
      url: `${s.server.url}/api/v1/keys/verify`,
      method: "POST" as const,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: key.key }),
      connections,
    };
    // `amount` (total requests) is autocannon's; bench/lib/autocannon.d.ts does not list it.
    const run = (n: number) => autocannon(Object.assign({ amount: n }, base));
    const warm = await run(Math.min(5_000, amount));
    await new Promise((r) => setTimeout(r, 2_500));
    const load = loadavg()[0];
    const t0 = cpuMs(pid, pid);
    const p0 = cpuMs(pid);
    const r = await run(amount);
    await new Promise((r) => setTimeout(r, 2_500));
    const thread = cpuMs(pid, pid) - t0;
    const proc = cpuMs(pid) - p0;
    const code = await s.server.stop("SIGTERM");
    const sent = warm.requests.sent + r.requests.sent;
    const metered = await countMetered(
      backend.kind === "postgres"
        ? { kind: "postgres", databaseUrl: backend.databaseUrl }
        : { kind: "embedded", dataDir: s.server.dataDir },
      [key.keyId],
    );
    const m = metered.get(key.keyId);
    console.log(
      JSON.stringify({
        backend: backend.kind,
        worker: backend.kind === "postgres" ? worker : "n/a",
        amount,
        connections,
        rps: Math.round(r.requests.total / r.duration),
        p99: r.latency.p99,
        non2xx: r.non2xx + warm.non2xx,
        errors: r.errors + warm.errors,
        load1: Math.round(load * 100) / 100,
        threadCpuMs: thread,
        processCpuMs: proc,
        threadUsPerVerify: Math.round((thread * 10_000) / r.requests.total) / 10,
        processUsPerVerify: Math.round((proc * 10_000) / r.requests.total) / 10,
        sent,
        usageRows: m?.usageRows,
        requestCount: m?.requestCount,
        exit: code,
      }),
    );
    if (m?.usageRows !== sent || m?.requestCount !== sent) process.exitCode = 1;
  } finally {
    await s.server.stop().catch(() => {});
    await drop?.().catch(() => {});
  }
}

void main();
