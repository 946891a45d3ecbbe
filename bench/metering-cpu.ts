// Metering's cost on the recording thread: events recorded at a fixed rate into a UsageRecorder
// with the process defaults' batch size and writers, then closed (everything written); reports
// this thread's CPU (/proc/self/task/<pid>/stat, the request thread in a server) and the whole
// process's (all threads) per event, and checks every event was written.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kw_meter npx tsx bench/metering-cpu.ts \
//     --target postgres --sink worker|main|none [--rate 5000] [--seconds 20]
// (--sink none: the same loop making the same events, none recorded: the loop's own cost)
//   npx tsx bench/metering-cpu.ts --target pglite --dir /tmp/kw-meter-pglite [--rate 2000]
//
// --recorder <module path> measures another UsageRecorder implementation with the same load
// (e.g. the one before the column ring: `git show 3a4c3ba:lib/services/usage-recorder.ts`
// saved inside the repository, so its `@/` imports resolve).
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { UsageRecorder } from "@/lib/services/usage-recorder";
import { workerSink } from "@/lib/services/usage-writer";
import { createBenchOrg, EventGenerator, openBenchDb, parseArgs } from "./usage-generator";

/** utime + stime of one thread (tid) or of the process (no tid), in ms. */
function cpuMs(tid?: number): number {
  const file = tid ? `/proc/self/task/${tid}/stat` : "/proc/self/stat";
  const fields = readFileSync(file, "utf8").split(") ")[1]?.split(" ") ?? [];
  // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based) -> indices 11, 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function main() {
  const args = parseArgs();
  const target = args.target === "postgres" ? "postgres" : "pglite";
  const rate = Number(args.rate ?? 5_000);
  const seconds = Number(args.seconds ?? 20);
  const sink = String(args.sink ?? "main");
  const db = await openBenchDb({ ...args, target });
  const Recorder: typeof UsageRecorder = args.recorder
    ? (await import(String(args.recorder))).UsageRecorder
    : UsageRecorder;
  const defaults = target === "postgres" ? { batchSize: 5_000, writers: 2 } : {};
  const url = process.env.DATABASE_URL as string;
  const org = await createBenchOrg(db.prisma, 50);
  const gen = new EventGenerator(org, 11);
  const recorder = new Recorder({
    db: db.prisma,
    ...defaults,
    ...(sink === "worker" ? { sink: workerSink({ url, poolSize: 2 }) } : {}),
    log: (m) => console.error(m),
  });
  const load = loadavg()[0];
  const thread0 = cpuMs(process.pid);
  const proc0 = cpuMs();
  const t0 = performance.now();
  let produced = 0;
  let refused = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; produced < due; produced++) {
      const e = gen.event(Date.now());
      if (sink !== "none" && !recorder.record(e)) refused++;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await recorder.close();
  const wall = performance.now() - t0;
  const thread = cpuMs(process.pid) - thread0;
  const proc = cpuMs() - proc0;
  const rows = await db.prisma.apiKeyUsage.count({ where: { organizationId: org.organizationId } });
  const s = recorder.stats();
  console.log(
    JSON.stringify({
      target,
      sink: args.recorder ? `${sink} (${args.recorder})` : sink,
      rate,
      seconds,
      produced,
      refused,
      written: s.written,
      rows,
      load1: Math.round(load * 100) / 100,
      wallMs: Math.round(wall),
      threadCpuMs: thread,
      processCpuMs: proc,
      threadUsPerEvent: Math.round((thread * 1000 * 10) / produced) / 10,
      processUsPerEvent: Math.round((proc * 1000 * 10) / produced) / 10,
    }),
  );
  await db.close();
  if ((sink !== "none" && rows !== produced) || refused > 0) process.exitCode = 1;
}

void main();
