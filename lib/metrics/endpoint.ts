// GET /metrics: the Prometheus text exposition. With KEYWARD_METRICS_TOKEN set, a caller sends
// `Authorization: Bearer <token>` (401 otherwise); unset, only loopback callers may scrape (403
// otherwise), the address being the one lib/auth/client-address.ts sees. Web standard types only.
import { createHash, timingSafeEqual } from "node:crypto";
import { clientAddress } from "@/lib/auth/client-address";
import { config } from "@/lib/config";
import { type Db, getDb } from "@/lib/db";
import { problem } from "@/lib/http/problem";
import { newRequestId } from "@/lib/http/route";
import type { HttpResult } from "@/lib/http/types";
import { collectServiceMetrics } from "./collect";
import { metrics } from "./registry";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Whether `header` is `Bearer <token>`, compared in constant time. */
export function bearerMatches(header: string | null, token: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return a === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function refusal(result: HttpResult, requestId: string): Response {
  return new Response(JSON.stringify(result.body), {
    status: result.status,
    headers: { ...result.headers, "cache-control": "no-store", "x-request-id": requestId },
  });
}

export async function metricsResponse(request: Request): Promise<Response> {
  const token = config().KEYWARD_METRICS_TOKEN;
  if (token) {
    if (!bearerMatches(request.headers.get("authorization"), token)) {
      const id = newRequestId();
      const r = problem("UNAUTHORIZED", "Send Authorization: Bearer <KEYWARD_METRICS_TOKEN>.", id);
      r.headers["www-authenticate"] = 'Bearer realm="keyward-metrics"';
      return refusal(r, id);
    }
  } else if (!isLoopback(clientAddress(request.headers))) {
    const id = newRequestId();
    return refusal(
      problem(
        "FORBIDDEN",
        "Metrics are served to loopback callers only unless KEYWARD_METRICS_TOKEN is set.",
        id,
      ),
      id,
    );
  }
  let db: Db | null = null;
  try {
    db = await getDb();
  } catch {
    // The database is down: keyward_dependency_up{dependency="database"} says 0.
  }
  await collectServiceMetrics(db);
  const { registry } = metrics();
  return new Response(await registry.metrics(), {
    status: 200,
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
}
