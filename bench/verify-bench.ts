// The verify benchmark (issues 3 and 5), run by hand:
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 \
//     npx tsx bench/verify-bench.ts [--connections 50] [--duration 10] [--warmup 5]
//       [--memory-duration 60] [--no-postgres] [--no-memory] [--cpu-prof] [--rounds 1]
//       [--max-load 1.5] [--max-wait 300] [--open-rate 2000] [--open-connections 256] [--no-open]
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
// 429 through the same path.
//
// The floor (issue 18): bench/lib/floor-server.mjs, its own node process, the least a verify can
// cost on the same database: node:http, SHA-256 of the key, one indexed SELECT on "ApiKey" by
// "keyHash", a 1 s in-process cache, a small JSON answer. Embedded, it opens a PGlite of its own
// in its process (a copy of the migrated template, tests/helpers/pglite-template.ts, with a bench
// key made by the CLI before the floor opens it); on PostgreSQL, the bench's database through
// `pg`, with a key made on it. It runs after the bare row, and after the PostgreSQL rows.
//
// CPU per request, for every row: /proc/<pid>/task/<pid>/stat (the main thread, which serves
// HTTP and runs the JavaScript) and /proc/<pid>/stat (the whole process, all threads), utime +
// stime, read at the start and end of the measured window (after the warm-up), divided by the
// requests answered in it, in microseconds. <pid> is the server's own node process: startServer
// spawns node itself (`node --import tsx scripts/start.ts`, which imports server.ts in the same
// process), the reference servers are `node <script>`; before the first row the script checks
// that each pid holds its server's listening socket (/proc/net/tcp, /proc/<pid>/fd). /proc counts in clock ticks (getconf
// CLK_TCK, 100 here: 10 ms), so a 10 s row at one busy core is read to about 0.1 %. Each row's
// CPU is also given as a ratio to the floor of the same backend (rows without a database, the
// plain and bare ones, against the embedded floor; open-loop rows against the open-loop floor).
//
// Open loop (--open-rate per second, default 2,000; --no-open skips it): verify on the lean lane
// and the floor, each backend, driven by bench/lib/open-loop.ts: requests issued on a fixed
// schedule whatever the answers, latency measured from each request's scheduled time (so a
// stall counts against every request behind it, which autocannon's closed loop hides), over a
// keep-alive node:http agent of --open-connections sockets; the same warm-up and duration as the
// other rows. It reports p50/p99/max, the rate achieved, and the sender's own lag (the client
// shares the machine; its delays are in the latencies too, and show there).
//
// DATABASE_URL here is the server to create a fresh database on (dropped at the
// end); without DATABASE_URL or REDIS_URL the PostgreSQL rows are skipped.
// --rounds N repeats the rows in that order N times and reports medians (a shared machine is
// noisy); before each round it waits up to --max-wait seconds for the 1-minute load average to
// fall under --max-load. --cpu-prof writes V8 CPU profiles of the two embedded servers to
// bench/results/prof/{lean,route}/ when they stop.
// Results: a markdown table on stdout and bench/results/verify-<time>.{md,json}.
import { execSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { generateKey } from "@/lib/keys";
import { createPostgresDatabase } from "@/tests/helpers/db";
import { copyMigratedDatabase } from "@/tests/helpers/pglite-template";
import { root, tempDataDir } from "@/tests/helpers/server";
import { CLK_TCK, listensOn } from "./lib/cpu";
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
import { type OpenLoopResult, runOpenLoop } from "./lib/open-loop";
import {
  buildPlainApp,
  type RefServer,
  startBare,
  startFloor,
  startPlainApp,
} from "./lib/processes";
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
    "open-rate": { type: "string", default: "2000" },
    "open-connections": { type: "string", default: "256" },
    "no-open": { type: "boolean", default: false },
  },
});
const connections = Number(args.connections);
const durationS = Number(args.duration);
const warmupS = Number(args.warmup);
const memoryS = Number(args["memory-duration"]);
const rounds = Math.max(1, Number(args.rounds));
const maxLoad = Number(args["max-load"]);
const maxWaitS = Number(args["max-wait"]);
const openRate = Number(args["open-rate"]);
const openConnections = Number(args["open-connections"]);
const withOpen = !args["no-open"];
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
  /** Open-loop rows too: their answers per second as rps, their latencies in ms (not rounded). */
  result: LoadResult;
  /** Open-loop rows: the sender's full result. */
  open?: OpenLoopResult;
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
  /** The floor row this row's CPU is compared with. */
  floor?: string;
}

/** The request thread's CPU per request and the kernel's part of it (stime: writev, epoll). */
function cpuNote(r: { cpu?: { threadUs: number; threadSysUs: number } }): string {
  return r.cpu
    ? `, request thread ${r.cpu.threadUs.toFixed(0)} µs/req (kernel ${r.cpu.threadSysUs.toFixed(0)})`
    : "";
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
    pid: s.server.proc.pid,
  });
  log(`${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms${cpuNote(result)}`);
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
  const result = await runLoad({ ...verifyLoad(s.server.url, key), pid: s.server.proc.pid });
  const after = await verifyOnce(s.server.url, key.key);
  log(
    `${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms${cpuNote(result)}, after: ${after.code}`,
  );
  return { result, loadavg, key, extraCalls: 2, after };
}

async function refRun(name: string, srv: RefServer, p: string): Promise<Run> {
  const loadavg = os.loadavg()[0]!;
  log(`${name}: ${warmupS} s warm-up + ${durationS} s (load ${loadavg.toFixed(2)}) ...`);
  const result = await runLoad({ ...plainLoad(srv.url, p), pid: srv.proc.pid });
  log(`${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms${cpuNote(result)}`);
  return { result, loadavg, extraCalls: 0 };
}

/** The floor must find the bench key (a 200 VALID), or its row measures a miss. */
async function mustFloor(floor: RefServer, key: BenchKey): Promise<void> {
  const r = await fetch(`${floor.url}/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: key.key }),
  });
  const b = (await r.json()) as { code?: string };
  if (r.status !== 200 || b.code !== "VALID") {
    throw new Error(`the floor on ${floor.url} did not find the bench key: ${r.status} ${b.code}`);
  }
}

async function floorRun(name: string, floor: RefServer, key: BenchKey): Promise<Run> {
  await mustFloor(floor, key);
  const loadavg = os.loadavg()[0]!;
  log(`${name}: ${warmupS} s warm-up + ${durationS} s (load ${loadavg.toFixed(2)}) ...`);
  const result = await runLoad({ ...verifyLoad(floor.url, key), pid: floor.proc.pid });
  log(`${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms${cpuNote(result)}`);
  return { result, loadavg, extraCalls: 0 };
}

/** An open-loop run at --open-rate against a verify URL (Keyward's or the floor's). */
async function openRun(
  name: string,
  url: string,
  key: string,
  pid: number | undefined,
): Promise<Pick<Run, "result" | "open" | "loadavg">> {
  const loadavg = os.loadavg()[0]!;
  log(
    `${name}: open loop at ${openRate}/s, ${warmupS} s warm-up + ${durationS} s (load ${loadavg.toFixed(2)}) ...`,
  );
  const open = await runOpenLoop({
    url,
    body: JSON.stringify({ key }),
    headers: { "content-type": "application/json" },
    rate: openRate,
    durationS,
    warmupS,
    connections: openConnections,
    pid,
  });
  log(
    `${name}: ${open.achievedRate.toFixed(0)}/s achieved, p50 ${open.p50.toFixed(1)} ms, p99 ${open.p99.toFixed(1)} ms, max ${open.max.toFixed(1)} ms`,
  );
  const result: LoadResult = {
    requests: open.requests,
    sent: open.sent,
    rps: open.achievedRate,
    p50: open.p50,
    p99: open.p99,
    errors: open.errors,
    timeouts: open.timeouts,
    non2xx: open.non2xx,
    durationS: open.durationS,
    cpu: open.cpu,
  };
  return { result, open, loadavg };
}

async function openVerifyRun(name: string, s: KeywardServer, label: string): Promise<Run> {
  const key = await createBenchKey(s, label);
  await mustVerify(s.server.url, key);
  const r = await openRun(name, `${s.server.url}/api/v1/keys/verify`, key.key, s.server.proc.pid);
  const after = await verifyOnce(s.server.url, key.key);
  return { ...r, key, extraCalls: 2, after };
}

async function openFloorRun(name: string, floor: RefServer, key: BenchKey): Promise<Run> {
  await mustFloor(floor, key);
  return {
    ...(await openRun(name, `${floor.url}/verify`, key.key, floor.proc.pid)),
    extraCalls: 0,
  };
}

/** The CPU is read from this pid: it must be the process holding the server's listening socket. */
function mustServe(name: string, pid: number | undefined, url: string): void {
  const port = Number(new URL(url).port);
  if (!pid || !listensOn(pid, port)) {
    throw new Error(`${name}: pid ${pid} does not hold the socket listening on port ${port}`);
  }
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
  if (xs.length === 0) return Number.NaN;
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
    /** Microseconds of CPU per answered request: the request thread's, the whole process's. */
    threadUs: median(xs.map((x) => x.cpu?.threadUs ?? Number.NaN)),
    processUs: median(xs.map((x) => x.cpu?.processUs ?? Number.NaN)),
  };
}

/** Open-loop rows: medians of what only they have. */
function openSummary(r: Row) {
  const os_ = r.runs.flatMap((x) => (x.open ? [x.open] : []));
  return {
    max: median(os_.map((x) => x.max)),
    sendLagP99: median(os_.map((x) => x.sendLagP99)),
    sendLagMax: median(os_.map((x) => x.sendLagMax)),
    maxInFlight: Math.max(...os_.map((x) => x.maxInFlight)),
    scheduled: os_.reduce((s, x) => s + x.scheduled, 0),
  };
}

/** A row's CPU against its floor's (medians over the rounds). */
function cpuRatios(r: Row, byId: Map<string, Row>) {
  const f = r.floor ? byId.get(r.floor) : undefined;
  if (!f) return undefined;
  const a = summary(r);
  const b = summary(f);
  return { thread: a.threadUs / b.threadUs, process: a.processUs / b.processUs };
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

const num = (n: number, d = 0) => (Number.isFinite(n) ? fmt(n, d) : "n/a");
const times = (n: number | undefined) =>
  n !== undefined && Number.isFinite(n) ? `${n.toFixed(2)}x` : "n/a";

function metered(r: Row): string {
  return r.metered
    ? `${fmt(r.metered.usageRows)} / ${fmt(r.metered.requestCount)} / ${fmt(summary(r).sent)}`
    : "n/a";
}

function table(rows: Row[], byId: Map<string, Row>): string {
  const lines = [
    "| row | requests/s | p50 ms | p99 ms | request-thread CPU µs/req | process CPU µs/req | thread / floor | process / floor | requests | errors | timeouts | non-2xx | metered: usage rows / key requestCount / sent |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    const x = summary(r);
    const c = cpuRatios(r, byId);
    lines.push(
      `| ${r.name} | ${fmt(x.rps)} | ${x.p50} | ${x.p99} | ${num(x.threadUs)} | ${num(x.processUs)} | ${times(c?.thread)} | ${times(c?.process)} | ${fmt(x.requests)} | ${x.errors} | ${x.timeouts} | ${x.non2xx} | ${metered(r)} |`,
    );
  }
  return lines.join("\n");
}

function openTable(rows: Row[], byId: Map<string, Row>): string {
  const lines = [
    "| row (open loop) | target/s | achieved/s | p50 ms | p99 ms | max ms | send lag p99 / max ms | most in flight | request-thread CPU µs/req | process CPU µs/req | thread / floor | process / floor | p99 / floor p99 | errors | timeouts | non-2xx | metered: usage rows / key requestCount / sent |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    const x = summary(r);
    const o = openSummary(r);
    const c = cpuRatios(r, byId);
    const f = r.floor ? byId.get(r.floor) : undefined;
    const p99Ratio = f ? x.p99 / summary(f).p99 : undefined;
    lines.push(
      `| ${r.name} | ${fmt(openRate)} | ${fmt(x.rps)} | ${num(x.p50, 1)} | ${num(x.p99, 1)} | ${num(o.max, 1)} | ${num(o.sendLagP99, 1)} / ${num(o.sendLagMax, 1)} | ${o.maxInFlight} | ${num(x.threadUs)} | ${num(x.processUs)} | ${times(c?.thread)} | ${times(c?.process)} | ${times(p99Ratio)} | ${x.errors} | ${x.timeouts} | ${x.non2xx} | ${metered(r)} |`,
    );
  }
  return lines.join("\n");
}

interface Ratio {
  name: string;
  value: number;
  perRound: number[];
  target: number;
  /** min: at least the target; max: under it; atMost: at most it. */
  kind: "min" | "max" | "atMost";
}

type Field = "rps" | "p99" | "threadUs" | "processUs";
const pick = (x: LoadResult, f: Field): number =>
  f === "threadUs"
    ? (x.cpu?.threadUs ?? Number.NaN)
    : f === "processUs"
      ? (x.cpu?.processUs ?? Number.NaN)
      : x[f];

function ratios(byId: Map<string, Row>): Ratio[] {
  const out: Ratio[] = [];
  const add = (
    name: string,
    a: string,
    b: string,
    field: Field,
    target: number,
    kind: Ratio["kind"],
  ) => {
    const ra = byId.get(a);
    const rb = byId.get(b);
    if (!ra || !rb) return;
    const value = summary(ra)[field] / summary(rb)[field];
    const perRound = ra.runs.map((x, i) => {
      const y = rb.runs[i]?.result;
      return y ? pick(x.result, field) / pick(y, field) : Number.NaN;
    });
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
  // Issue 18: CPU per verify against the floor on the same database, and the open-loop p99.
  const atMost = (what: string, a: string, f: string, field: Field, target: number) =>
    add(`issue 18: ${what}`, a, f, field, target, "atMost");
  atMost("verify (lean, embedded) / floor, request-thread CPU", "lean", "floor", "threadUs", 1.5);
  atMost("verify (lean, embedded) / floor, process CPU", "lean", "floor", "processUs", 2.5);
  atMost(
    "verify (lean, PG + Redis) / floor, request-thread CPU",
    "lean-pg",
    "floor-pg",
    "threadUs",
    1.5,
  );
  atMost("verify (lean, PG + Redis) / floor, process CPU", "lean-pg", "floor-pg", "processUs", 1.5);
  atMost(
    `open loop ${openRate}/s: verify (lean, embedded) / floor, p99`,
    "open-lean",
    "open-floor",
    "p99",
    2,
  );
  atMost(
    `open loop ${openRate}/s: verify (lean, PG + Redis) / floor, p99`,
    "open-lean-pg",
    "open-floor-pg",
    "p99",
    2,
  );
  return out;
}

function ratioTable(rs: Ratio[]): string {
  const lines = [
    `| ratio | measured | target | met |${rounds > 1 ? " per round |" : ""}`,
    `| --- | ---: | ---: | --- |${rounds > 1 ? " --- |" : ""}`,
  ];
  for (const r of rs) {
    const met =
      r.kind === "min"
        ? r.value >= r.target
        : r.kind === "max"
          ? r.value < r.target
          : r.value <= r.target;
    const how = met
      ? "yes"
      : r.kind === "min"
        ? `no, ${fmt((1 - r.value / r.target) * 100)} % short`
        : `no, ${fmt((r.value / r.target - 1) * 100)} % over`;
    const per = rounds > 1 ? ` ${r.perRound.map((v) => v.toFixed(2)).join(", ")} |` : "";
    lines.push(
      `| ${r.name} | ${r.value.toFixed(2)}x | ${{ min: ">=", max: "<", atMost: "<=" }[r.kind]} ${r.target}x | ${how} |${per}`,
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
  const cleanups: Array<() => void> = [];
  const rows = new Map<string, Row>();
  // Each row's CPU is compared with the floor of its backend (rows without a database: the
  // embedded floor), open-loop rows with the open-loop floor.
  const floorOf = (id: string) => {
    if (id === "floor" || id === "floor-pg" || id.startsWith("open-floor")) return undefined;
    const f = `${id.startsWith("open-") ? "open-" : ""}floor${id.endsWith("-pg") ? "-pg" : ""}`;
    return f;
  };
  const record = (id: string, name: string, run: Run) => {
    const row = rows.get(id) ?? { id, name, runs: [], floor: floorOf(id) };
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
    // The embedded floor: a migrated PGlite folder of its own with a bench key in it, made by the
    // CLI (which opens the folder, then exits) before the floor's process opens it.
    const floorDir = tempDataDir();
    cleanups.push(() => rmSync(floorDir, { recursive: true, force: true }));
    await copyMigratedDatabase(floorDir);
    const floorKey = await createBenchKey({ kind: "embedded", dataDir: floorDir }, "floor");
    const floor = await startFloor({ kind: "embedded", dataDir: floorDir });
    stops.push(() => floor.stop());
    let floorPg: RefServer | undefined;
    let floorPgKey: BenchKey | undefined;
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
      floorPgKey = await createBenchKey(leanPg, "floor-pg");
      floorPg = await startFloor({ kind: "postgres", databaseUrl: pgDb.url });
      stops.push(() => floorPg!.stop());
    }

    for (const [name, pid, url] of [
      ["lean", lean.server.proc.pid, lean.server.url],
      ["route", route.server.proc.pid, route.server.url],
      ["plain", plain.proc.pid, plain.url],
      ["bare", bare.proc.pid, bare.url],
      ["floor", floor.proc.pid, floor.url],
      ["lean-pg", leanPg?.server.proc.pid, leanPg?.server.url],
      ["route-pg", routePg?.server.proc.pid, routePg?.server.url],
      ["floor-pg", floorPg?.proc.pid, floorPg?.url],
    ] as const) {
      if (url) mustServe(name, pid, url);
    }
    log("each server's pid holds its listening socket: its CPU is the server's");

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
        "floor",
        "floor: SHA-256 + indexed SELECT + 1 s cache (embedded PGlite)",
        await floorRun(r("floor (embedded)"), floor, floorKey),
      );
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
      if (floorPg && floorPgKey) {
        record(
          "floor-pg",
          "floor: SHA-256 + indexed SELECT + 1 s cache (PostgreSQL)",
          await floorRun(r("floor (PostgreSQL)"), floorPg, floorPgKey),
        );
      }
      if (withOpen) {
        record(
          "open-lean",
          "open loop: verify, lean lane (embedded)",
          await openVerifyRun(r("open loop: lean"), lean, "open-lean"),
        );
        record(
          "open-floor",
          "open loop: floor (embedded PGlite)",
          await openFloorRun(r("open loop: floor"), floor, floorKey),
        );
        if (leanPg && floorPg && floorPgKey) {
          record(
            "open-lean-pg",
            "open loop: verify, lean lane (PostgreSQL + Redis)",
            await openVerifyRun(r("open loop: lean, PostgreSQL + Redis"), leanPg, "open-lean-pg"),
          );
          record(
            "open-floor-pg",
            "open loop: floor (PostgreSQL)",
            await openFloorRun(r("open loop: floor (PostgreSQL)"), floorPg, floorPgKey),
          );
        }
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
      const result = await runLoad({ ...load, durationS: memoryS, warmupS: 0, pid });
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
      [lean, ["lean", "memory", "open-lean"]],
      [route, ["route"]],
    ];
    if (leanPg) servers.push([leanPg, ["lean-pg", "route-pg", "open-lean-pg"]]);
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
      .filter((l) => /usage-recorder|ratelimit:|request failed|error/i.test(l))
      .concat(
        [floor, floorPg]
          .flatMap((f) => f?.logs().split("\n") ?? [])
          .filter((l) => /fail|error/i.test(l)),
      );

    const all = [...rows.values()];
    const closed = all.filter((r) => !r.runs[0]?.open);
    const open = all.filter((r) => r.runs[0]?.open);
    const loadAfter = os.loadavg().map((l) => l.toFixed(2));
    const md = [
      `Run ${info.date} at ${info.commit}: \`${["npx tsx", ...process.argv.slice(1).map((a) => path.relative(root, a) || a)].join(" ")}\`, autocannon ${connections} connections, ${durationS} s per row after a ${warmupS} s warm-up, ${rounds} round(s)${rounds > 1 ? " (medians)" : ""}.`,
      `Machine: ${info.nproc} cores (${info.cpu}), node ${info.node}; 1/5/15-min load average ${info.loadavgBefore.join(" ")} before, ${loadAfter.join(" ")} after; 1-min load at each row's start: ${all.map((r) => `${r.id} ${r.runs.map((x) => x.loadavg.toFixed(1)).join("/")}`).join(", ")}.`,
      "",
      table(closed, rows),
      "",
      `CPU: utime + stime of the server process's main thread (/proc/<pid>/task/<pid>/stat, the request thread) and of the whole process (/proc/<pid>/stat, all threads) over each measured window, per answered request (CLK_TCK ${CLK_TCK}); "/ floor" is against the floor row of the same backend (rows without a database: the embedded floor).`,
      "",
      ...(open.length
        ? [
            `Open loop: ${fmt(openRate)} requests/s on a fixed schedule (bench/lib/open-loop.ts, node:http keep-alive agent of ${openConnections} sockets), latency from each request's scheduled time; ${warmupS} s warm-up, ${durationS} s measured.`,
            "",
            openTable(open, rows),
            "",
          ]
        : []),
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
    for (const c of cleanups) c();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
