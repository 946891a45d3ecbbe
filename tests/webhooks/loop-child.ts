// A process running only the webhook delivery loop (tests/webhooks/kill.test.ts kills it with
// SIGKILL mid-delivery and starts it again). Target: WH_DATABASE_URL (PostgreSQL) or
// WH_DATA_DIR (an embedded database folder, which this process then owns).
import { openDatabase } from "@/lib/db";
import { createDeliveryLoop } from "@/lib/services/webhooks/delivery";

async function main() {
  const url = process.env.WH_DATABASE_URL;
  const dir = process.env.WH_DATA_DIR;
  const database = url
    ? await openDatabase({ kind: "postgres", url })
    : await openDatabase({ kind: "pglite", dataDir: dir as string });
  const loop = createDeliveryLoop({
    db: database.prisma,
    allowPrivate: true,
    concurrency: 5,
    pollMs: 50,
    timeoutMs: 2_000,
    leaseMs: 2_500,
    retry: { baseMs: 100, minMs: 50, maxMs: 500 },
  });
  loop.start();
  console.log("ready");
  process.on("SIGTERM", () => {
    loop
      .stop()
      .then(() => database.close())
      .then(() => process.exit(0));
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
