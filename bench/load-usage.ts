// Load generator: N realistic usage events (default 1,000,000) over the last 30 days for one new
// organization with 50 keys and 20 endpoints, written through the same write path as the app
// (usageRollupRepository.insertBatch: raw rows + rollups + key counters in one statement), in
// big batches, oldest first.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kw_bench \
//     npx tsx bench/load-usage.ts --target postgres --events 1000000
//   npx tsx bench/load-usage.ts --target pglite --events 1000000 [--dir /tmp/keyward-bench-pglite]
//
// Options: --days 30, --keys 50, --batch 5000, --writers 2 (postgres; 1 on pglite), --seed 42.
// Prints one JSON line at the end.
import { usageRollupRepository } from "@/lib/repositories/usage-rollup-repository";
import type { UsageRow } from "@/lib/usage/event";
import { createBenchOrg, DAY_MS, EventGenerator, openBenchDb, parseArgs } from "./usage-generator";

async function main() {
  const args = parseArgs();
  const total = Number(args.events ?? 1_000_000);
  const days = Number(args.days ?? 30);
  const batchSize = Number(args.batch ?? 5_000);
  const writers = Number(args.writers ?? (args.target === "postgres" ? 2 : 1));
  const db = await openBenchDb(args);
  try {
    const org = await createBenchOrg(db.prisma, Number(args.keys ?? 50));
    const gen = new EventGenerator(org, Number(args.seed ?? 42));
    // Days [today - days + 1 .. today], UTC; today's events only up to now.
    const now = Date.now();
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    const dayStarts = Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY_MS);
    const weights = dayStarts.map((d, i) => gen.dayWeight(d) * (0.85 + (0.3 * i) / days));
    const sum = weights.reduce((a, b) => a + b, 0);
    const perDay = weights.map((w) => Math.floor((w / sum) * total));
    perDay[perDay.length - 1] += total - perDay.reduce((a, b) => a + b, 0);
    const incidentDay = days - 10;

    const started = performance.now();
    let written = 0;
    let statements = 0;
    let lastReport = started;
    for (let d = 0; d < days; d++) {
      // One day's events, sorted by time, written in batches.
      const limit = d === days - 1 ? now : dayStarts[d] + DAY_MS;
      const events: UsageRow[] = [];
      for (let i = 0; i < perDay[d]; i++) {
        let at = gen.timeIn(dayStarts[d]);
        if (at >= limit) at = dayStarts[d] + Math.floor(Math.random() * (limit - dayStarts[d]));
        events.push(gen.event(at, d === incidentDay));
      }
      events.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      // Up to `writers` statements at once (PGlite runs them one after another anyway).
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < events.length; i += batchSize) {
        const p: Promise<void> = usageRollupRepository
          .insertBatch(db.prisma, events.slice(i, i + batchSize))
          .then((n) => {
            written += n;
            statements++;
            inFlight.delete(p);
          });
        inFlight.add(p);
        if (inFlight.size >= writers) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const t = performance.now();
      if (t - lastReport > 5_000 || d === days - 1) {
        lastReport = t;
        const s = (t - started) / 1000;
        console.error(
          `day ${d + 1}/${days}: ${written} events in ${s.toFixed(1)} s (${Math.round(written / s)}/s)`,
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const rollups = await db.prisma.usageRollup.count({
      where: { organizationId: org.organizationId },
    });
    const raw = await db.prisma.apiKeyUsage.count({
      where: { organizationId: org.organizationId },
    });
    console.log(
      JSON.stringify({
        target: args.target,
        organizationId: org.organizationId,
        slug: org.slug,
        keys: org.keyIds.length,
        events: total,
        written,
        rawRows: raw,
        rollupRows: rollups,
        statements,
        batchSize,
        writers,
        seconds: Math.round(seconds * 10) / 10,
        eventsPerSecond: Math.round(written / seconds),
      }),
    );
    if (raw !== total) throw new Error(`expected ${total} rows, found ${raw}`);
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
