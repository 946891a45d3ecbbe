// Keyward's server: one Node process that owns the database (and, embedded, the
// data folder's lock and operator socket), serves the app through Next's
// request handler, and shuts down in order on SIGTERM/SIGINT.
// Started by `npm start` (scripts/start.mjs) as `node --import tsx server.ts`.
import http from "node:http";
import next from "next";
import { seedDemoIfEmpty } from "@/lib/cli/seed";
import { config } from "@/lib/config";
import { getDatabase } from "@/lib/db";
import { DatabaseOwnedError } from "@/lib/db/owner-lock";
import { pagePostRefusal } from "@/lib/http/body-limit";
import { isShuttingDown, onShutdown, shutdown } from "@/lib/lifecycle";
import { startOperatorSocket } from "@/lib/owner/operator-socket";

// scripts/start.ts validated the configuration already; a direct run fails here, in one line.
let env: ReturnType<typeof config>;
try {
  env = config();
} catch (e) {
  fail((e as Error).message);
}
const port = env.PORT;
const hostname = env.HOST;

function fail(message: string): never {
  console.error(`keyward: ${message}`);
  process.exit(1);
}

async function main() {
  let database: Awaited<ReturnType<typeof getDatabase>>;
  try {
    // The embedded database runs in a thread of its own unless KEYWARD_DB_THREAD=off.
    database = await getDatabase({ thread: env.KEYWARD_DB_THREAD === "on" });
  } catch (e) {
    if (e instanceof DatabaseOwnedError) fail(e.message);
    fail(`cannot open the database: ${(e as Error).message}`);
  }
  onShutdown("database", () => database.close(), 90);

  if (database.lock) {
    const socket = await startOperatorSocket(database.lock);
    onShutdown("operator-socket", () => socket.close(), 10);
  }

  if (env.KEYWARD_SEED_DEMO) {
    const seeded = await seedDemoIfEmpty(database.prisma);
    if (seeded) {
      console.log(`keyward: seeded the demo organization "${seeded.slug}"`);
      console.log(`keyward: demo login ${seeded.email} / ${seeded.password}`);
    }
  }

  // Raw usage events past each organization's retention are deleted hourly, in batches.
  const { startRetentionTimer } = await import("@/lib/services/usage-retention");
  startRetentionTimer({ log: (m) => console.log(`keyward: ${m}`) });
  // budget.threshold webhook events (credits used, spend against caps), checked every minute.
  const { startBudgetAlertTimer } = await import("@/lib/services/budget-alerts");
  startBudgetAlertTimer({
    db: async () => database.prisma,
    log: (m) => console.log(`keyward: ${m}`),
  });

  // Time-based webhook events (key expiry, quota thresholds) and their alert mails, every
  // KEYWARD_WEBHOOK_SCHEDULER_INTERVAL_MS; stopped at shutdown before the database closes.
  const { startWebhookScheduler } = await import("@/lib/services/webhooks/scheduler");
  startWebhookScheduler();
  // Webhooks: the delivery loop sends the outbox's due deliveries (lib/services/webhooks).
  const { startWebhookDelivery } = await import("@/lib/services/webhooks/delivery");
  startWebhookDelivery(database.prisma, (m) => console.error(m));

  const app = next({ dev: false, dir: process.cwd(), hostname, port });
  await app.prepare();
  const handle = app.getRequestHandler();

  // The lean lane: the product's hot path (verify, me) served by the same lib/
  // route core without Next's per-request cost. KEYWARD_LEAN_LANE=0 sends
  // everything through Next's route handlers instead (same responses).
  const lean = env.KEYWARD_LEAN_LANE ? await leanRoutes() : null;

  const trustProxy = env.KEYWARD_TRUST_PROXY;
  const server = http.createServer((req, res) => {
    if (isShuttingDown()) res.setHeader("Connection", "close");
    // The client's address is the last X-Forwarded-For entry (lib/auth/client-address.ts).
    // Without a trusted proxy in front, that is the socket's peer, whatever the client sent;
    // behind one (KEYWARD_TRUST_PROXY=1), the proxy appended the address it saw.
    if (!trustProxy || !req.headers["x-forwarded-for"]) {
      req.headers["x-forwarded-for"] = req.socket.remoteAddress ?? "unknown";
      delete req.headers["x-real-ip"];
    }
    // Bodies are bounded everywhere: a page POST (server action) over 64 KiB is refused here,
    // before Next reads it (lib/http/body-limit.ts).
    const refusal = pagePostRefusal(
      req.method,
      req.url,
      req.headers["content-length"],
      req.headers["transfer-encoding"],
    );
    if (refusal) {
      res.writeHead(refusal.status, {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(refusal.detail);
      // Lingering close: discard what the client is still sending for a moment (closing at once
      // with unread data resets the connection, and the client may never read the answer), then
      // cut it. Nothing is kept in memory.
      req.resume();
      setTimeout(() => req.socket.destroy(), 1_000).unref();
      return;
    }
    const route = lean?.match(req);
    if (route) {
      lean?.serve(route, req, res).catch((e) => {
        console.error("keyward: lean request failed", (e as Error).message);
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        }
      });
      return;
    }
    handle(req, res).catch((e) => {
      console.error("keyward: request failed", (e as Error).message);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  onShutdown(
    "http",
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests in flight get a moment to finish; then the rest is cut.
        setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 3_000).unref();
      }),
    20,
  );
  onShutdown("next", () => app.close(), 30);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  }).catch((e: NodeJS.ErrnoException) =>
    fail(e.code === "EADDRINUSE" ? `port ${port} is in use; set PORT` : e.message),
  );
  const where =
    database.target.kind === "pglite"
      ? `embedded database in ${database.target.dataDir}${database.pglite ? "" : ", on its own thread"}`
      : "PostgreSQL";
  console.log(
    `keyward: ready on http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port} (${where})`,
  );

  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      console.error(`keyward: ${signal} again, exiting now`);
      process.exit(1);
    }
    console.log(`keyward: ${signal}, shutting down`);
    shutdown().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function leanRoutes() {
  const { handleNode } = await import("@/lib/http/node");
  const { meRoute, verifyRoute } = await import("@/lib/http/routes");
  const table = new Map<string, typeof verifyRoute | typeof meRoute>([
    ["POST /api/v1/keys/verify", verifyRoute],
    ["GET /api/v1/me", meRoute],
  ]);
  return {
    match(req: http.IncomingMessage) {
      const url = req.url ?? "";
      const q = url.indexOf("?");
      return table.get(`${req.method} ${q < 0 ? url : url.slice(0, q)}`);
    },
    serve: (
      route: typeof verifyRoute | typeof meRoute,
      req: http.IncomingMessage,
      res: http.ServerResponse,
    ) => handleNode(route, req, res),
  };
}

main().catch((e) => fail((e as Error).message));
