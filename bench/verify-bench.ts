// The verify benchmark (issues 3 and 5), run by hand:
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 \
//     npx tsx bench/verify-bench.ts [--connections 50] [--duration 10] [--warmup 5]
//       [--memory-duration 60] [--no-postgres] [--no-memory] [--cpu-prof] [--rounds 1]
//       [--max-load 1.5] [--max-wait 300]
//
// One run, in this order, each with a warm-up: POST /api/v1/keys/verify over the lean lane,
// the same through Next's route handler (a second server with KEYWARD_LEAN_LANE=0), a plain Next
// route handler returning fixed JSON (bench/plain-app), a bare node:http server returning the same
// JSON; then the two verify rows again on PostgreSQL + Redis (two instances sharing one database
// and one Redis); then the lean lane for --memory-duration seconds with the server's RSS sampled
// every second. A fifth reference row, the plain route reading its body, shows what reading a
// POST body costs in a route handler (verify must read it). Two refusal rows on the lean lane
// compare a key refused by its checksum with a bare format error (issue 17: the checksum must
// answer at least as fast); both spend the address's failure budget alike, so past it both answer
// 429 through the same path. DATABASE_URL here is the server to create a fresh database on (dropped at the
// end); without DATABASE_URL or REDIS_URL the PostgreSQL rows are skipped.
// --rounds N repeats the rows in that order N times and reports medians (a shared machine is
// noisy); before each round it waits up to --max-wait seconds for the 1-minute load average to
// fall under --max-load. --cpu-prof writes V8 CPU profiles of the two embedded servers to
// bench/results/prof/{lean,route}/ when they stop.
// Results: a markdown table on stdout and bench/results/verify-<time>.{md,json}.
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { generateKey } from "@/lib/keys";
import { createPostgresDatabase } from "@/tests/helpers/db";
import { root } from "@/tests/helpers/server";
import {
  type Backend,
  type BenchKey,
  countMetered,
  createBenchKey,
  type KeywardServer,
  type Metered,
  startKeyward,
  verifyOnce,
} from "./lib/keyward";
import { type LoadResult, runLoad } from "./lib/load";
import { buildPlainApp, type RefServer, startBare, startPlainApp } from "./lib/processes";
import { type RssSummary, sampleRss } from "./lib/rss";

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "5" },
    "memory-duration": { type: "string", default: "60" },
    "no-postgres": { type: "boolean", default: false },
    "no-memory": { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    rounds: { type: "string", default: "1" },
    "max-load": { type: "string", default: "1.5" },
    "max-wait": { type: "string", default: "300" },
  },
});
const connections = Number(args.connections);
const durationS = Number(args.duration);
const warmupS = Number(args.warmup);
const memoryS = Number(args["memory-duration"]);
const rounds = Math.max(1, Number(args.rounds));
const maxLoad = Number(args["max-load"]);
const maxWaitS = Number(args["max-wait"]);
const adminDbUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
const withPostgres = !args["no-postgres"] && Boolean(adminDbUrl && redisUrl);

const log = (m: string) => console.error(`[bench] ${m}`);
const sh = (cmd: string) => {
  try {
    return execSync(cmd, { encoding: "utf8" }).trim();
  } catch {
    return "(unavailable)";
  }
};

/** One measured run of one row: the load, and for verify rows the key it used. */
interface Run {
  result: LoadResult;
  loadavg: number;
  key?: BenchKey;
  /** verify calls this script made outside autocannon (sanity checks), for the metering sum. */
  extraCalls: number;
  /** After the run: the key's answer, and what was left of its per-minute limit. */
  after?: { valid: boolean; code: string; remaining: number | null };
}

interface Row {
  id: string;
  name: string;
  runs: Run[];
  metered?: Metered;
}

function verifyLoad(baseUrl: string, key: BenchKey) {
  return {
    url: `${baseUrl}/api/v1/keys/verify`,
    method: "POST" as const,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: key.key }),
    connections,
    durationS,
    warmupS,
  };
}

// The same body as verify's, so every row parses (or skips) a body of the same size.
const plainLoad = (baseUrl: string, p: string) => ({
  url: `${baseUrl}${p}`,
  method: "POST" as const,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ key: "pk_live_0000000000000000000000000000000000000000000" }),
  connections,
  durationS,
  warmupS,
});

// Refusals: the same length, one refused by the pattern, one by its checksum alone.
const BAD_FORMAT_KEY = `pk_live_${"A".repeat(42)}!`;
const BAD_CHECKSUM_KEY = (() => {
  const k = generateKey("live").key;
  return k.slice(0, -1) + (k.endsWith("A") ? "E" : "A");
})();

async function refusalRun(name: string, s: KeywardServer, key: string): Promise<Run> {
  const loadavg = os.loadavg()[0]!;
  log(`${name}: ${warmupS} s warm-up + ${durationS} s (load ${loadavg.toFixed(2)}) ...`);
  const result = await runLoad({
    ...plainLoad(s.server.url, "/api/v1/keys/verify"),
    body: JSON.stringify({ key }),
  });
  log(`${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms`);
  return { result, loadavg, extraCalls: 0 };
}

async function mustVerify(baseUrl: string, key: BenchKey): Promise<void> {
  const a = await verifyOnce(baseUrl, key.key);
  if (a.status !== 200 || !a.valid) {
    throw new Error(`sanity verify on ${baseUrl} failed: ${a.status} ${a.code}`);
  }
}

async function verifyRun(name: string, s: KeywardServer, label: string): Promise<Run> {
  const key = await createBenchKey(s, label);
  await mustVerify(s.server.url, key);
  const loadavg = os.loadavg()[0]!;
  log(`${name}: ${warmupS} s warm-up + ${durationS} s (load ${loadavg.toFixed(2)}) ...`);
  const result = await runLoad(verifyLoad(s.server.url, key));
  const after = await verifyOnce(s.server.url, key.key);
  log(`${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms, after: ${after.code}`);
  return { result, loadavg, key, extraCalls: 2, after };
}

async function refRun(name: string, srv: RefServer, p: string): Promise<Run> {
  const loadavg = os.loadavg()[0]!;
  log(`${name}: ${warmupS} s warm-up + ${durationS} s (load ${loadavg.toFixed(2)}) ...`);
  const result = await runLoad(plainLoad(srv.url, p));
  log(`${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms`);
  return { result, loadavg, extraCalls: 0 };
}

/** Other work on the machine skews every row: wait (bounded) for the 1-minute load to drop. */
async function waitForQuiet(): Promise<void> {
  const deadline = Date.now() + maxWaitS * 1000;
  while (os.loadavg()[0]! > maxLoad && Date.now() < deadline) {
    log(`load average ${os.loadavg()[0]!.toFixed(2)} > ${maxLoad}: waiting ...`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The row's figures: medians of rps and latencies over the rounds, sums of the counts. */
function summary(r: Row) {
  const xs = r.runs.map((x) => x.result);
  return {
    rps: median(xs.map((x) => x.rps)),
    p50: median(xs.map((x) => x.p50)),
    p99: median(xs.map((x) => x.p99)),
    requests: xs.reduce((s, x) => s + x.requests, 0),
    sent: xs.reduce((s, x) => s + x.sent, 0) + r.runs.reduce((s, x) => s + x.extraCalls, 0),
    errors: xs.reduce((s, x) => s + x.errors, 0),
    timeouts: xs.reduce((s, x) => s + x.timeouts, 0),
    non2xx: xs.reduce((s, x) => s + x.non2xx, 0),
  };
}

function machine() {
  return {
    nproc: sh("nproc"),
    cpu: os.cpus()[0]?.model ?? "unknown",
    free: sh("free -h"),
    node: process.version,
    loadavgBefore: os.loadavg().map((l) => l.toFixed(2)),
    date: new Date().toISOString(),
    commit: sh("git rev-parse --short HEAD"),
  };
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

function table(rows: Row[]): string {
  const lines = [
    "| row | requests/s | p50 ms | p99 ms | requests | errors | timeouts | non-2xx | metered: usage rows / key requestCount / sent |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    const x = summary(r);
    const metered = r.metered
      ? `${fmt(r.metered.usageRows)} / ${fmt(r.metered.requestCount)} / ${fmt(x.sent)}`
      : "n/a";
    lines.push(
      `| ${r.name} | ${fmt(x.rps)} | ${x.p50} | ${x.p99} | ${fmt(x.requests)} | ${x.errors} | ${x.timeouts} | ${x.non2xx} | ${metered} |`,
    );
  }
  return lines.join("\n");
}

interface Ratio {
  name: string;
  value: number;
  perRound: number[];
  target: number;
  kind: "min" | "max";
}

function ratios(byId: Map<string, Row>): Ratio[] {
  const out: Ratio[] = [];
  const add = (
    name: string,
    a: string,
    b: string,
    field: "rps" | "p99",
    target: number,
    kind: Ratio["kind"],
  ) => {
    const ra = byId.get(a);
    const rb = byId.get(b);
    if (!ra || !rb) return;
    const value = summary(ra)[field] / summary(rb)[field];
    const perRound = ra.runs.map(
      (x, i) => x.result[field] / (rb.runs[i]?.result[field] ?? Number.NaN),
    );
    out.push({ name, value, perRound, target, kind });
  };
  add("lean lane / bare node:http, requests/s", "lean", "bare", "rps", 0.4, "min");
  add("route handler / plain route handler, requests/s", "route", "plain", "rps", 0.9, "min");
  add(
    "route handler / plain route handler reading the body, requests/s",
    "route",
    "plain-read",
    "rps",
    0.9,
    "min",
  );
  add("verify (lean lane) / plain route handler, requests/s", "lean", "plain", "rps", 0.9, "min");
  add(
    "bad checksum / bare format error (lean lane), requests/s",
    "refuse-checksum",
    "refuse-format",
    "rps",
    1,
    "min",
  );
  add("verify (lean lane) / plain route handler, p99", "lean", "plain", "p99", 2, "max");
  add("verify (route handler) / plain route handler, p99", "route", "plain", "p99", 2, "max");
  add(
    "lean lane on PostgreSQL + Redis / bare node:http, requests/s",
    "lean-pg",
    "bare",
    "rps",
    0.4,
    "min",
  );
  add(
    "route handler on PostgreSQL + Redis / plain route handler, requests/s",
    "route-pg",
    "plain",
    "rps",
    0.9,
    "min",
  );
  return out;
}

function ratioTable(rs: Ratio[]): string {
  const lines = [
    `| ratio | measured | target | met |${rounds > 1 ? " per round |" : ""}`,
    `| --- | ---: | ---: | --- |${rounds > 1 ? " --- |" : ""}`,
  ];
  for (const r of rs) {
    const met = r.kind === "min" ? r.value >= r.target : r.value < r.target;
    const how = met
      ? "yes"
      : r.kind === "min"
        ? `no, ${fmt((1 - r.value / r.target) * 100)} % short`
        : `no, ${fmt((r.value / r.target - 1) * 100)} % over`;
    const per = rounds > 1 ? ` ${r.perRound.map((v) => v.toFixed(2)).join(", ")} |` : "";
    lines.push(
      `| ${r.name} | ${r.value.toFixed(2)}x | ${r.kind === "min" ? ">=" : "<"} ${r.target}x | ${how} |${per}`,
    );
  }
  return lines.join("\n");
}

function memoryTable(m: RssSummary): string {
  return [
    "| samples | start MB | min MB | max MB | end MB | slope MB/min (all) | slope MB/min (second half) | lowest RSS per quarter, MB |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    `| ${m.samples} | ${m.startMb.toFixed(1)} | ${m.minMb.toFixed(1)} | ${m.maxMb.toFixed(1)} | ${m.endMb.toFixed(1)} | ${m.slopeMbPerMin.toFixed(2)} | ${m.lateSlopeMbPerMin.toFixed(2)} | ${m.quarterFloorsMb.map((f) => f.toFixed(0)).join(", ")} |`,
    "",
    `RSS each second, MB: ${m.series.map((p) => p.mb.toFixed(0)).join(" ")}`,
  ].join("\n");
}

async function main() {
  const info = machine();
  log(`machine: ${info.nproc} cores, ${info.cpu}, node ${info.node}, load ${info.loadavgBefore}`);
  if (!withPostgres && !args["no-postgres"]) {
    log("DATABASE_URL or REDIS_URL unset: skipping the PostgreSQL + Redis rows");
  }
  buildPlainApp(log);

  const stops: Array<() => Promise<unknown>> = [];
  const rows = new Map<string, Row>();
  const record = (id: string, name: string, run: Run) => {
    const row = rows.get(id) ?? { id, name, runs: [] };
    row.runs.push(run);
    rows.set(id, row);
  };
  let memory: RssSummary | undefined;
  let pgDb: { url: string; drop(): Promise<void> } | undefined;
  const embedded: Backend = { kind: "embedded" };
  const profDir = path.join(root, "bench/results/prof");
  try {
    // Every server starts before any load, so no start-up competes with a measured run.
    log("starting servers ...");
    const lean = await startKeyward(embedded, {
      lean: true,
      nodeArgs: args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profDir}/lean`] : undefined,
    });
    stops.push(() => lean.server.stop());
    const route = await startKeyward(embedded, {
      lean: false,
      nodeArgs: args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profDir}/route`] : undefined,
    });
    stops.push(() => route.server.stop());
    const plain = await startPlainApp();
    stops.push(() => plain.stop());
    const bare = await startBare();
    stops.push(() => bare.stop());
    let leanPg: KeywardServer | undefined;
    let routePg: KeywardServer | undefined;
    if (withPostgres) {
      pgDb = await createPostgresDatabase();
      const pg: Backend = { kind: "postgres", databaseUrl: pgDb.url, redisUrl: redisUrl! };
      // One after the other: the first applies the migrations to the fresh database.
      leanPg = await startKeyward(pg, { lean: true });
      stops.push(() => leanPg!.server.stop());
      routePg = await startKeyward(pg, { lean: false });
      stops.push(() => routePg!.server.stop());
    }

    for (let round = 1; round <= rounds; round++) {
      await waitForQuiet();
      if (rounds > 1) log(`round ${round} of ${rounds}`);
      const r = (name: string) => (rounds > 1 ? `round ${round}, ${name}` : name);
      record("lean", "verify, lean lane (embedded)", await verifyRun(r("lean"), lean, "lean"));
      record(
        "route",
        "verify, Next route handler (embedded)",
        await verifyRun(r("route handler"), route, "route"),
      );
      record(
        "plain",
        "plain Next route handler, fixed JSON",
        await refRun(r("plain route handler"), plain, "/plain"),
      );
      record(
        "plain-read",
        "plain Next route handler, reads the body, fixed JSON",
        await refRun(r("plain route handler reading the body"), plain, "/plain-read"),
      );
      record("bare", "bare node:http, fixed JSON", await refRun(r("bare node:http"), bare, "/"));
      record(
        "refuse-format",
        "verify refusal, bare format error (lean lane, embedded)",
        await refusalRun(r("refusal: format"), lean, BAD_FORMAT_KEY),
      );
      record(
        "refuse-checksum",
        "verify refusal, bad checksum (lean lane, embedded)",
        await refusalRun(r("refusal: checksum"), lean, BAD_CHECKSUM_KEY),
      );
      if (leanPg && routePg) {
        record(
          "lean-pg",
          "verify, lean lane (PostgreSQL + Redis)",
          await verifyRun(r("lean, PostgreSQL + Redis"), leanPg, "lean-pg"),
        );
        record(
          "route-pg",
          "verify, Next route handler (PostgreSQL + Redis)",
          await verifyRun(r("route handler, PostgreSQL + Redis"), routePg, "route-pg"),
        );
      }
    }

    if (!args["no-memory"]) {
      await waitForQuiet();
      const key = await createBenchKey(lean, "memory");
      await mustVerify(lean.server.url, key);
      const pid = lean.server.proc.pid!;
      const loadavg = os.loadavg()[0]!;
      log(`memory: ${warmupS} s warm-up + ${memoryS} s on the lean lane, RSS of pid ${pid} ...`);
      const load = verifyLoad(lean.server.url, key);
      // The warm-up runs first, unsampled; the sampler covers exactly the measured run.
      const warm = await runLoad({ ...load, durationS: warmupS, warmupS: 0 });
      const sampler = sampleRss(pid);
      const result = await runLoad({ ...load, durationS: memoryS, warmupS: 0 });
      memory = sampler.stop();
      result.sent += warm.sent;
      const after = await verifyOnce(lean.server.url, key.key);
      record("memory", `verify, lean lane (embedded), ${memoryS} s memory run`, {
        result,
        loadavg,
        key,
        extraCalls: 2,
        after,
      });
      log(`memory: RSS ${memory.startMb.toFixed(0)} -> ${memory.endMb.toFixed(0)} MB`);
    }

    // Stop every server (SIGTERM flushes each usage recorder), then count what was metered.
    for (const stop of stops.splice(0)) await stop();
    const servers: Array<[KeywardServer, string[]]> = [
      [lean, ["lean", "memory"]],
      [route, ["route"]],
    ];
    if (leanPg) servers.push([leanPg, ["lean-pg", "route-pg"]]);
    for (const [s, ids] of servers) {
      const keyed = ids.flatMap(
        (id) => rows.get(id)?.runs.map((x) => ({ id, keyId: x.key!.keyId })) ?? [],
      );
      const counts = await countMetered(
        s.backend.kind === "postgres"
          ? { kind: "postgres", databaseUrl: s.backend.databaseUrl }
          : { kind: "embedded", dataDir: s.server.dataDir },
        keyed.map((k) => k.keyId),
      );
      for (const { id, keyId } of keyed) {
        const row = rows.get(id)!;
        const c = counts.get(keyId) ?? { usageRows: 0, requestCount: 0 };
        row.metered = {
          usageRows: (row.metered?.usageRows ?? 0) + c.usageRows,
          requestCount: (row.metered?.requestCount ?? 0) + c.requestCount,
        };
      }
    }
    const serverLines = [lean, route, leanPg, routePg]
      .filter((s): s is KeywardServer => s !== undefined)
      .flatMap((s) => s.server.logs().split("\n"))
      .filter((l) => /usage-recorder|ratelimit:|request failed|error/i.test(l));

    const all = [...rows.values()];
    const loadAfter = os.loadavg().map((l) => l.toFixed(2));
    const md = [
      `Run ${info.date} at ${info.commit}: \`${["npx tsx", ...process.argv.slice(1).map((a) => path.relative(root, a) || a)].join(" ")}\`, autocannon ${connections} connections, ${durationS} s per row after a ${warmupS} s warm-up, ${rounds} round(s)${rounds > 1 ? " (medians)" : ""}.`,
      `Machine: ${info.nproc} cores (${info.cpu}), node ${info.node}; 1/5/15-min load average ${info.loadavgBefore.join(" ")} before, ${loadAfter.join(" ")} after; 1-min load at each row's start: ${all.map((r) => `${r.id} ${r.runs.map((x) => x.loadavg.toFixed(1)).join("/")}`).join(", ")}.`,
      "",
      table(all),
      "",
      ratioTable(ratios(rows)),
      "",
      ...(memory ? [memoryTable(memory), ""] : []),
      "After each verify run its key still answered (limit 1,000,000/min per key, a fresh key per run):",
      ...all.flatMap((r) =>
        r.runs
          .filter((x) => x.after)
          .map(
            (x) =>
              `- ${r.name}: ${x.after!.code}, ${x.after!.remaining === null ? "no rate-limit state" : `${fmt(x.after!.remaining)} left`}`,
          ),
      ),
      "",
      serverLines.length
        ? `Server log lines about metering, limits or errors:\n${serverLines.map((l) => `    ${l}`).join("\n")}`
        : "No server log line about metering drops, limiter failures or errors.",
    ].join("\n");
    console.log(md);
    const outDir = path.join(root, "bench/results");
    mkdirSync(outDir, { recursive: true });
    const stamp = info.date.replace(/[:.]/g, "-");
    writeFileSync(path.join(outDir, `verify-${stamp}.md`), `${md}\n`);
    const json = {
      info,
      loadAfter,
      rows: all.map((r) => ({
        ...r,
        summary: summary(r),
        runs: r.runs.map((x) => ({ ...x, key: x.key?.keyId })),
      })),
      ratios: ratios(rows),
      memory,
    };
    writeFileSync(path.join(outDir, `verify-${stamp}.json`), `${JSON.stringify(json, null, 2)}\n`);
    log(`written bench/results/verify-${stamp}.md and .json`);
  } finally {
    for (const stop of stops.splice(0)) await stop().catch(() => {});
    await pgDb?.drop().catch(() => {});
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
