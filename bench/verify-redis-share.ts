// What Redis costs verify's request thread on PostgreSQL + Redis, measured as the most a
// "local-first" limiter could save (issue 18: is an opt-in local-first mode with bounded overshoot
// worth offering?). Two lean-lane servers on the same PostgreSQL database, run one at a time and
// alternated (ABBA ...): one with the Redis limiter (one EVALSHA per verify, the default with
// REDIS_URL), one with RATE_LIMIT_STORE=memory (every decision in process, no round trip at
// all: what local-first would do between its syncs, with nothing to sync). The difference is an
// upper bound on the saving: a real local-first mode would still sync its counts to Redis.
//
//   DATABASE_URL=... REDIS_URL=... npx tsx bench/verify-redis-share.ts [--pairs 3] [--duration 10]
//     [--warmup 3] [--connections 50]
import os from "node:os";
import { parseArgs } from "node:util";
import { createBenchKey, type KeywardServer, startKeyward } from "./lib/keyward";
import { runLoad } from "./lib/load";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
  },
});
const databaseUrl = process.env.DATABASE_URL ?? "";
const redisUrl = process.env.REDIS_URL ?? "";
if (!databaseUrl || !redisUrl) throw new Error("needs DATABASE_URL and REDIS_URL");

type Which = "redis" | "memory";
type Row = { rps: number; threadUs: number; sysUs: number; processUs: number };
const rows: Record<Which, Row[]> = { redis: [], memory: [] };

async function measure(which: Which): Promise<void> {
  const s: KeywardServer = await startKeyward(
    { kind: "postgres", databaseUrl, redisUrl },
    { lean: true, env: which === "memory" ? { RATE_LIMIT_STORE: "memory" } : {} },
  );
  try {
    const key = await createBenchKey(s, which);
    const r = await runLoad({
      url: `${s.server.url}/api/v1/keys/verify`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: key.key }),
      connections: Number(args.connections),
      durationS: Number(args.duration),
      warmupS: Number(args.warmup),
      pid: s.server.proc.pid,
    });
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`${which}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    const row = {
      rps: r.rps,
      threadUs: r.cpu?.threadUs ?? Number.NaN,
      sysUs: r.cpu?.threadSysUs ?? Number.NaN,
      processUs: r.cpu?.processUs ?? Number.NaN,
    };
    rows[which].push(row);
    console.error(
      `${which}: ${row.rps.toFixed(0)} req/s, thread ${row.threadUs.toFixed(0)} µs/req (kernel ${row.sysUs.toFixed(0)}), process ${row.processUs.toFixed(0)} (load ${os.loadavg()[0]!.toFixed(2)})`,
    );
  } finally {
    await s.server.stop();
  }
}

for (let i = 0; i < Number(args.pairs); i++) {
  for (const which of i % 2 === 0
    ? (["redis", "memory"] as const)
    : (["memory", "redis"] as const)) {
    await measure(which);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = (k: Which, f: keyof Row) => median(rows[k].map((r) => r[f]));
console.log(
  `| verify, lean lane, PostgreSQL (median of ${rows.redis.length}) | req/s | thread µs/req | of it kernel | process µs/req |`,
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const k of ["redis", "memory"] as const) {
  const name =
    k === "redis" ? "Redis limiter (EVALSHA per verify)" : "in-process limiter (no Redis)";
  console.log(
    `| ${name} | ${m(k, "rps").toFixed(0)} | ${m(k, "threadUs").toFixed(1)} | ${m(k, "sysUs").toFixed(1)} | ${m(k, "processUs").toFixed(1)} |`,
  );
}
console.log(
  `\nRedis's share of the request thread: ${((1 - m("memory", "threadUs") / m("redis", "threadUs")) * 100).toFixed(1)} %; node ${process.version}, ${os.cpus().length} cores`,
);
process.exit(0);
