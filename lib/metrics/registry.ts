// Keyward's Prometheus metrics (prom-client): one registry per process, on globalThis because
// Next bundles route handlers apart from server.ts (the lean lane) and both must count into the
// same series. The request hook (observeRequest) is called by the route core, lib/http/route.ts,
// so both lanes are measured; what is read from services at scrape time is in ./collect.ts.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

function create() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "keyward_" });
  return {
    registry,
    requestDuration: new Histogram({
      name: "keyward_http_request_duration_seconds",
      help: "API request latency in the route core (both lanes), by route template, method and status.",
      labelNames: ["route", "method", "status"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    verifies: new Counter({
      name: "keyward_verifies_total",
      help: "POST /api/v1/keys/verify answers by code: VALID and the refusal codes (200), or the problem code (4xx/5xx).",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    usagePending: new Gauge({
      name: "keyward_usage_queue_depth",
      help: "Usage events waiting to be written (buffered, in flight or waiting for a retry).",
      registers: [registry],
    }),
    usageWritten: new Counter({
      name: "keyward_usage_events_written_total",
      help: "Usage events written to the database.",
      registers: [registry],
    }),
    usageDropped: new Counter({
      name: "keyward_usage_events_dropped_total",
      help: "Usage events not written, by reason (usage-recorder.ts DroppedByReason).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: "keyward_dependency_up",
      help: "1 when the dependency answers, 0 when not; redis is absent when rate limits are not in Redis.",
      labelNames: ["dependency"] as const,
      registers: [registry],
    }),
    // Webhook deliveries by outcome, counted by the delivery loop (lib/services/webhooks).
    webhookDeliveries: new Counter({
      name: "keyward_webhook_deliveries_total",
      help: "Webhook deliveries by outcome (delivered, failed, gave_up).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof create>;

const KEY = Symbol.for("keyward.metrics");

export function metrics(): Metrics {
  const g = globalThis as unknown as Record<symbol, Metrics>;
  g[KEY] ??= create();
  return g[KEY];
}

const VERIFY_PATH = "/api/v1/keys/verify";

/**
 * The route core's one hook: one observation per API request, whatever lane served it. `route`
 * is the template (`/api/v1/keys/{id}`), never the URL, so series stay few; `startedAt` is a
 * performance.now() reading.
 */
export function observeRequest(
  route: { path: string; method: string },
  result: { status: number; body: unknown },
  startedAt: number,
): void {
  const m = metrics();
  const { path, method } = route;
  const seconds = (performance.now() - startedAt) / 1e3;
  m.requestDuration.observe({ route: path, method, status: String(result.status) }, seconds);
  if (path === VERIFY_PATH && method === "POST") {
    const code = (result.body as { code?: unknown } | null)?.code;
    m.verifies.inc({ code: typeof code === "string" ? code : "NONE" });
  }
}

/**
 * Counted by the webhook delivery loop: `failed` per failed attempt that will be retried,
 * `gave_up` when the retries are over.
 */
export function countWebhookDelivery(outcome: "delivered" | "failed" | "gave_up"): void {
  metrics().webhookDeliveries.inc({ outcome });
}
