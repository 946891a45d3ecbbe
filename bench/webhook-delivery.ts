// Webhook delivery benchmark: N events (default 10,000) written through the outbox writer
// (enqueueWebhookEvent, 100 per transaction) for one endpoint, delivered by the delivery loop
// to a receiver on 127.0.0.1 that answers 200 at once. Reports events per second (first enqueue
// to last receipt) and the delay from each event's commit to its receipt (p50, p99, max).
//
//   npx tsx bench/webhook-delivery.ts --target pglite [--events 10000] [--concurrency 10]
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kw_bench_webhooks \
//     npx tsx bench/webhook-delivery.ts --target postgres [--loops 2]
//
// --rate R enqueues R events per second (default: as fast as the writer goes, so the delay
// includes the backlog); --loops L runs L loops with their own clients (postgres only).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { openDatabase } from "@/lib/db";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { createDeliveryLoop } from "@/lib/services/webhooks/delivery";
import { enqueueWebhookEvent } from "@/lib/services/webhooks/enqueue";
import { generateWebhookSecret, sealSecret } from "@/lib/webhooks/secrets";
import { parseArgs } from "./usage-generator";

const args = parseArgs();
const total = Number(args.events ?? 10_000);
const concurrency = Number(args.concurrency ?? 10);
const loops = args.target === "postgres" ? Number(args.loops ?? 1) : 1;
const rate = args.rate ? Number(args.rate) : 0;
const BATCH = 100;

async function open() {
  if (args.target === "postgres") {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("set DATABASE_URL for --target postgres");
    return openDatabase({ kind: "postgres", url });
  }
  return openDatabase({ kind: "pglite", dataDir: "memory://" });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main() {
  const received = new Map<string, number>();
  let duplicates = 0;
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((r) => {
    resolveAll = r;
  });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const id = String(req.headers["webhook-id"]);
      if (received.has(id)) duplicates++;
      else received.set(id, performance.now());
      res.writeHead(200).end();
      if (received.size === total) resolveAll();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;

  const dbs = [await open()];
  for (let i = 1; i < loops; i++) dbs.push(await open());
  const db = dbs[0]!.prisma;
  const org = await organizationRepository.create(db, {
    name: `Webhook bench ${Date.now()}`,
    email: `wh-bench-${Date.now()}@example.test`,
  });
  await db.webhookEndpoint.create({
    data: {
      organizationId: org.id,
      url: `http://127.0.0.1:${port}/bench`,
      eventTypes: ["key.created"],
      secretSealed: sealSecret(generateWebhookSecret()),
    },
  });
  const running = dbs.map((d) =>
    createDeliveryLoop({ db: d.prisma, concurrency, allowPrivate: true, pollMs: 100 }),
  );
  for (const l of running) l.start();

  const load = loadavg()[0];
  const cpu = process.cpuUsage();
  const committed = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < total; i += BATCH) {
    const ids = await db.$transaction(
      async (tx) => {
        const out: string[] = [];
        for (let j = i; j < Math.min(total, i + BATCH); j++) {
          const id = await enqueueWebhookEvent(tx, {
            organizationId: org.id,
            type: "key.created",
            data: { key: { id: `key_${j}`, name: `bench ${j}` } },
          });
          if (id) out.push(id);
        }
        return out;
      },
      { timeout: 120_000 },
    );
    const at = performance.now();
    for (const id of ids) committed.set(`msg_${id.replaceAll("-", "")}`, at);
    for (const l of running) l.wake();
    if (rate > 0) {
      const due = started + ((i + BATCH) / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  const enqueuedMs = performance.now() - started;
  await all;
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await Promise.all(running.map((l) => l.stop(5_000)));
  const delays = [...received]
    .map(([id, at]) => at - (committed.get(id) ?? at))
    .sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      target: args.target ?? "pglite",
      events: total,
      loops,
      concurrency,
      rate: rate || "unpaced",
      enqueueSeconds: Math.round(enqueuedMs) / 1000,
      seconds: Math.round(elapsedMs) / 1000,
      eventsPerSecond: Math.round((total / elapsedMs) * 1000),
      delayMs: {
        p50: Math.round(percentile(delays, 50)),
        p99: Math.round(percentile(delays, 99)),
        max: Math.round(delays.at(-1) ?? 0),
      },
      duplicates,
      processCpuSeconds: Math.round((used.user + used.system) / 1000) / 1000,
      loadAverageAtStart: Math.round(load * 100) / 100,
    }),
  );
  server.close();
  for (const d of dbs) await d.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
