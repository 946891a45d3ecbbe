// GET /metrics: Prometheus text format (lib/metrics/endpoint.ts; docs/operations.md, "Metrics").
import { metricsResponse } from "@/lib/metrics/endpoint";

export const dynamic = "force-dynamic";
export const GET = metricsResponse;
