// Would a verify-only fast path reach issue 18's target (request-thread CPU per verify within 1.5x
// of the floor)? docs/benchmarks.md claims so; this measures it. Three servers on one embedded
// data folder, one at a time (PGlite has one owner per folder) and alternated (ABBA ...):
//   lean  the real server.ts lean lane (handleNode -> runRoute -> verifyRoute);
//   fast  bench/lib/fast-verify-server.ts: the same product work (verifyKey, metering, metrics,
//         the same headers) without the generic route core (bench-only, not product code);
//   floor bench/lib/floor-server.mjs: SHA-256, a cached lookup, a fixed JSON answer.
// `--rows` picks the rows (the floor is always measured, for the ratios); the variants are
// fast with zod on every body (fast-zod) and fast without observeRequest (fast-nometrics). Each Keyward row verifies its own key; after the last server stopped, the
// usage rows and requestCount of each key are compared with the requests sent to it.
//
//   npx tsx bench/verify-fast-path.ts [--pairs 3] [--duration 10] [--warmup 3] [--connections 50]
//     [--rows lean,fast,fast-zod,fast-nometrics]
import { rmSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { copyMigratedDatabase } from "@/tests/helpers/pglite-template";
import { tempDataDir } from "@/tests/helpers/server";
import { type BenchKey, countMetered, createBenchKey, startKeyward } from "./lib/keyward";
import { runLoad } from "./lib/load";
import { startFastVerify, startFloor } from "./lib/processes";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    rows: { type: "string", default: "lean,fast" },
  },
});

type Which = "lean" | "fast" | "fast-zod" | "fast-nometrics" | "floor";
type Row = {
  rps: number;
  threadUs: number;
  sysUs: number;
  processUs: number;
  sent: number;
  /** The fast server's own count of answers with a key (it prints it at shutdown). */
  answered?: number;
};
const ROWS: Which[] = ["lean", "fast", "fast-zod", "fast-nometrics", "floor"];
const picked = args.rows.split(",").map((r) => r.trim());
for (const r of picked) {
  if (!ROWS.includes(r as Which)) throw new Error(`--rows: unknown row ${r} (${ROWS.join(", ")})`);
}
const order = ROWS.filter((w) => w === "floor" || picked.includes(w));
const rows = new Map<Which, Row[]>(order.map((w) => [w, []]));
const keys = new Map<Which, BenchKey>();

const dataDir = tempDataDir();
await copyMigratedDatabase(dataDir);
const embedded = { kind: "embedded" as const, dataDir };
// A key per row, made by the CLI while no server has the folder open.
for (const w of order) keys.set(w, await createBenchKey(embedded, w));

async function start(
  which: Which,
): Promise<{ pid: number; url: string; logs(): string; stop(): Promise<void> }> {
  if (which === "lean") {
    const s = await startKeyward({ kind: "embedded" }, { lean: true, dataDir });
    return {
      pid: s.server.proc.pid!,
      url: s.server.url,
      logs: s.server.logs,
      stop: async () => void (await s.server.stop()),
    };
  }
  const s =
    which === "floor"
      ? await startFloor(embedded)
      : await startFastVerify(
          embedded,
          which === "fast-zod"
            ? { FAST_VERIFY_SCHEMA: "always" }
            : which === "fast-nometrics"
              ? { FAST_VERIFY_METRICS: "off" }
              : {},
        );
  return { pid: s.proc.pid!, url: s.url, logs: s.logs, stop: () => s.stop() };
}

async function measure(which: Which): Promise<void> {
  const s = await start(which);
  try {
    const key = keys.get(which)!;
    const r = await runLoad({
      url: `${s.url}/api/v1/keys/verify`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: key.key }),
      connections: Number(args.connections),
      durationS: Number(args.duration),
      warmupS: Number(args.warmup),
      pid: s.pid,
    });
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`${which}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    const row = {
      rps: r.rps,
      threadUs: r.cpu?.threadUs ?? Number.NaN,
      sysUs: r.cpu?.threadSysUs ?? Number.NaN,
      processUs: r.cpu?.processUs ?? Number.NaN,
      sent: r.sent,
    };
    rows.get(which)!.push(row);
    console.error(
      `${which}: ${row.rps.toFixed(0)} req/s, thread ${row.threadUs.toFixed(0)} µs/req (kernel ${row.sysUs.toFixed(0)}), process ${row.processUs.toFixed(0)} (load ${os.loadavg()[0]!.toFixed(2)})`,
    );
  } finally {
    await s.stop();
  }
  const line = /fast-verify: answered (\d+) verifies.*/.exec(s.logs());
  if (line) console.error(`${which}: ${line[0]}`);
  const answered = line?.[1];
  const row = rows.get(which)!.at(-1);
  if (row && answered) row.answered = Number(answered);
}

try {
  for (let i = 0; i < Number(args.pairs); i++) {
    for (const which of i % 2 === 0 ? order : [...order].reverse()) await measure(which);
  }

  // Every server has stopped (SIGTERM flushed each usage recorder): what was metered per key.
  const counts = await countMetered(
    embedded,
    order.filter((w) => w !== "floor").map((w) => keys.get(w)!.keyId),
  );

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  type Measured = "rps" | "threadUs" | "sysUs" | "processUs";
  const m = (k: Which, f: Measured) => median(rows.get(k)!.map((r) => r[f]));
  const ratio = (k: Which, f: Measured) => `${(m(k, f) / m("floor", f)).toFixed(2)}x`;
  console.log(
    `| verify, embedded (median of ${rows.get("floor")!.length}) | req/s | thread µs/req | of it kernel | process µs/req | thread / floor | process / floor | metered: usage rows / requestCount / sent (/ answered) |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const k of order) {
    const c = k === "floor" ? undefined : counts.get(keys.get(k)!.keyId);
    const sent = rows.get(k)!.reduce((s, r) => s + r.sent, 0);
    const answered = rows.get(k)!.every((r) => r.answered !== undefined)
      ? rows.get(k)!.reduce((s, r) => s + r.answered!, 0)
      : undefined;
    // Exactly once: as many rows as the key's requestCount, and as requests answered (the fast
    // server counts its own; otherwise the client's count of requests sent, which also holds the
    // few a stopping client cut before the server read them).
    const expected = answered ?? sent;
    const metered = c
      ? `${c.usageRows} / ${c.requestCount} / ${sent}${answered === undefined ? "" : ` / ${answered}`}${c.usageRows === expected && c.requestCount === expected ? " (once each)" : " (MISMATCH)"}`
      : "-";
    console.log(
      `| ${k} | ${m(k, "rps").toFixed(0)} | ${m(k, "threadUs").toFixed(1)} | ${m(k, "sysUs").toFixed(1)} | ${m(k, "processUs").toFixed(1)} | ${ratio(k, "threadUs")} | ${ratio(k, "processUs")} | ${metered} |`,
    );
  }
  console.log(
    `\nnode ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
