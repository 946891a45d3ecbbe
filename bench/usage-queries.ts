// The usage page's queries (and the API's usage report) for the last 30 days, on the organization
// bench/load-usage.ts filled: median (and p90, min, max) of 20 runs each, after 2 warm-up runs.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kw_bench npx tsx bench/usage-queries.ts \
//     --target postgres [--org <id|slug>] [--runs 20] [--baseline]
//   npx tsx bench/usage-queries.ts --target pglite [--dir /tmp/keyward-bench-pglite]
//
// --baseline also times the pre-rollup query (percentile_cont over the raw rows, per day) for
// comparison. Prints a markdown table and one JSON line.
import { Prisma } from "@/lib/db";
import { usageRepository as usage } from "@/lib/repositories/usage-repository";
import { parseDateRange } from "@/lib/url-state/date-range";
import { findBenchOrg, openBenchDb, parseArgs, waitForQuiet } from "./usage-generator";

async function main() {
  const args = parseArgs();
  const runs = Number(args.runs ?? 20);
  const db = await openBenchDb(args);
  try {
    const org = await findBenchOrg(db.prisma, args.org);
    const p = db.prisma;
    const id = org.organizationId;
    const range = parseDateRange({ range: "30d" });
    const { start, end } = range;
    const now = new Date();
    const apiFrom = new Date(now.getTime() - 30 * 86_400_000);
    // The busiest key, as the key page would show it.
    const key = org.keyIds[0];
    const raw = await p.apiKeyUsage.count({ where: { organizationId: id } });
    const rollups = await p.usageRollup.count({ where: { organizationId: id } });

    const queries: [string, () => Promise<unknown>][] = [
      ["usage page: daily stats (30 days, p50/p95)", () => usage.getDailyStats(p, id, start, end)],
      [
        "usage page: endpoint stats (top 20, p50/p95)",
        () => usage.getEndpointStats(p, id, start, end, { limit: 20 }),
      ],
      [
        "usage page: range totals (one merged histogram, p50/p95)",
        () => usage.getRangeStats(p, id, start, end),
      ],
      ["usage page: top consumers (10 keys)", () => usage.getTopConsumers(p, id, start, end, 10)],
      ["usage page: month-to-date requests", () => usage.getMonthlyUsage(p, id)],
      ["error stats (30 days)", () => usage.getErrorStats(p, id, start, end)],
      [
        "monthly summary",
        () => usage.getSummary(p, id, now.getUTCFullYear(), now.getUTCMonth() + 1),
      ],
      [
        "key page: daily stats of one key",
        () => usage.getDailyStats(p, id, start, end, { keyId: key }),
      ],
      [
        "key page: range totals of one key",
        () => usage.getRangeStats(p, id, start, end, { keyId: key }),
      ],
      ["API GET /usage: range totals, 30 days", () => usage.getRangeStats(p, id, apiFrom, now)],
      [
        "key page: endpoint stats of one key",
        () => usage.getEndpointStats(p, id, start, end, { keyId: key, limit: 20 }),
      ],
      [
        "API GET /usage: day series, now-30d..now",
        () => usage.getTimeSeries(p, id, { from: apiFrom, to: now, granularity: "day" }),
      ],
      [
        "API GET /usage: hour series, 30 days (720 buckets)",
        () => usage.getTimeSeries(p, id, { from: apiFrom, to: now, granularity: "hour" }),
      ],
      [
        "API GET /usage: day series, TEST keys, one endpoint",
        () =>
          usage.getTimeSeries(p, id, {
            from: apiFrom,
            to: now,
            granularity: "day",
            environment: "TEST",
            endpoint: "/v1/embeddings",
          }),
      ],
    ];
    if (args.baseline !== undefined) {
      queries.push([
        "baseline (before rollups): daily p50/p95 from raw rows",
        () =>
          p.$queryRaw(Prisma.sql`
          SELECT date_trunc('day', u."createdAt") AS day, COUNT(*) AS requests,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p50,
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY u."responseTimeMs") AS p95,
                 SUM(u."costUsd") AS cost
          FROM "ApiKeyUsage" u
          WHERE u."organizationId" = ${id}::uuid
            AND u."createdAt" >= ${start}::timestamp(3) AND u."createdAt" < ${end}::timestamp(3)
          GROUP BY 1`),
      ]);
    }

    const loadBefore = await waitForQuiet(args);
    const results = [];
    for (const [name, run] of queries) {
      for (let i = 0; i < 2; i++) await run();
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await run();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const median = (times[(runs - 1) >> 1] + times[runs >> 1]) / 2;
      const r = (x: number) => Math.round(x * 10) / 10;
      results.push({
        query: name,
        medianMs: r(median),
        p90Ms: r(times[Math.min(runs - 1, Math.ceil(runs * 0.9) - 1)]),
        minMs: r(times[0]),
        maxMs: r(times[runs - 1]),
      });
      console.error(`${name}: median ${r(median)} ms`);
    }
    const { loadavg } = await import("node:os");
    console.log(`\n${args.target}: ${raw} events, ${rollups} rollup rows, ${runs} runs each\n`);
    console.log("| query | median ms | p90 ms | min ms | max ms |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const r of results) {
      console.log(`| ${r.query} | ${r.medianMs} | ${r.p90Ms} | ${r.minMs} | ${r.maxMs} |`);
    }
    console.log(
      JSON.stringify({
        target: args.target,
        events: raw,
        rollupRows: rollups,
        runs,
        loadavgBefore: loadBefore,
        loadavgAfter: Math.round(loadavg()[0] * 100) / 100,
        results,
      }),
    );
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
