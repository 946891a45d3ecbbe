// Usage ingest: sustained events/s into PostgreSQL through the batching recorder (the app's
// metering path: UsageRecorder -> usageRollupRepository.insertBatch, raw rows + rollups in one
// statement), with zero loss, counted.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kw_bench npx tsx bench/usage-ingest.ts \
//     [--seconds 30] [--rate 0] [--batch 5000] [--writers 2] [--target postgres|pglite]
//
// A producer records events for the current hour as fast as the recorder accepts them
// (recordAsync: when the buffer is full it waits for a flush, so nothing is dropped), or at a
// fixed --rate per second. After --seconds it stops, closes the recorder (final flush) and
// counts: events produced, the recorder's written/dropped/orphaned, the rows in ApiKeyUsage
// for the organization, and the ORGANIZATION-level hour rollups' requests. Zero loss means all
// four agree. Throughput = rows in the database / (time from the first event to the last
// flush).
import { loadavg } from "node:os";
import { UsageRecorder } from "@/lib/services/usage-recorder";
import {
  createBenchOrg,
  EventGenerator,
  HOUR_MS,
  openBenchDb,
  parseArgs,
  waitForQuiet,
} from "./usage-generator";

async function main() {
  const args = parseArgs();
  const seconds = Number(args.seconds ?? 30);
  const rate = Number(args.rate ?? 0);
  const batchSize = Number(args.batch ?? 5_000);
  const writers = Number(args.writers ?? 2);
  const db = await openBenchDb(args);
  try {
    const org = await createBenchOrg(db.prisma, 50);
    const gen = new EventGenerator(org, 7);
    const recorder = new UsageRecorder({
      db: db.prisma,
      batchSize,
      writers,
      maxBuffer: Math.max(50_000, batchSize * (writers + 2)),
    });
    const loadBefore = await waitForQuiet(args);
    const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    let produced = 0;
    let maxPending = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let lastReport = started;
    let lastWritten = 0;
    while (performance.now() < deadline) {
      // Chunks of 1,000, yielding between them so the writes progress.
      const due = rate > 0 ? Math.floor(((performance.now() - started) / 1000) * rate) : Infinity;
      const n = Math.min(1_000, due - produced);
      for (let i = 0; i < n; i++) {
        const e = gen.event(hour + Math.floor(Math.random() * HOUR_MS));
        if (!(await recorder.recordAsync(e))) throw new Error("event refused");
        produced++;
      }
      maxPending = Math.max(maxPending, recorder.stats().pending);
      await new Promise((r) => setImmediate(r));
      if (n <= 0) await new Promise((r) => setTimeout(r, 5));
      const t = performance.now();
      if (t - lastReport >= 5_000) {
        const s = recorder.stats();
        console.error(
          `${((t - started) / 1000).toFixed(0)} s: produced ${produced}, written ${s.written} ` +
            `(${Math.round(((s.written - lastWritten) * 1000) / (t - lastReport))}/s), pending ${s.pending}`,
        );
        lastReport = t;
        lastWritten = s.written;
      }
    }
    const producedAt = performance.now();
    await recorder.close();
    const elapsed = (performance.now() - started) / 1000;
    const s = recorder.stats();
    const raw = await db.prisma.apiKeyUsage.count({
      where: { organizationId: org.organizationId },
    });
    const [r] = await db.prisma.$queryRaw<{ n: bigint | null }[]>`
      SELECT SUM(requests) AS n FROM "UsageRollup"
      WHERE "organizationId" = ${org.organizationId}::uuid AND granularity = 'HOUR'
        AND level = 'ORGANIZATION'`;
    const rolled = Number(r?.n ?? 0);
    const result = {
      target: args.target,
      seconds,
      rate: rate || "max",
      batchSize,
      writers,
      produced,
      recorded: s.recorded,
      written: s.written,
      dropped: s.dropped,
      orphaned: s.orphaned,
      failedFlushes: s.failedFlushes,
      rowsInDb: raw,
      rollupRequests: rolled,
      lost: produced - raw,
      maxPending,
      producerSeconds: Math.round((producedAt - started) / 100) / 10,
      elapsedSeconds: Math.round(elapsed * 10) / 10,
      eventsPerSecond: Math.round(raw / elapsed),
      loadavgBefore: loadBefore,
      loadavgAfter: Math.round(loadavg()[0] * 100) / 100,
    };
    console.log(JSON.stringify(result));
    if (raw !== produced || rolled !== produced || s.dropped || s.orphaned) {
      throw new Error("events were lost or miscounted");
    }
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
