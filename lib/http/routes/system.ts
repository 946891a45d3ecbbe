// /api/v1/health: no key needed. (/api/v1/openapi.json is served by lib/openapi.)
import { KeywardError } from "@/lib/errors";
import { getUsageRecorder } from "@/lib/services/usage-recorder";
import { HealthSchema } from "@/lib/validation/common";
import { defineRoute } from "../route";

export const healthRoute = defineRoute({
  summary: "Health",
  description: "Liveness and database readiness; 503 when the database does not answer.",
  path: "/api/v1/health",
  method: "GET",
  auth: "none",
  output: HealthSchema,
  async handler(ctx) {
    let database: "ok" | "unavailable" = "ok";
    try {
      await Promise.race([
        ctx.db.$queryRaw`SELECT 1`,
        new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000).unref()),
      ]);
    } catch {
      database = "unavailable";
    }
    if (database !== "ok") ctx.status = 503;
    const { pending, written, droppedByReason } = getUsageRecorder().stats();
    return {
      status: database === "ok" ? ("ok" as const) : ("degraded" as const),
      database,
      time: new Date().toISOString(),
      metering: { pending, written, droppedByReason: { ...droppedByReason } },
    };
  },
});

/** Any /api/v1 path without a route: 404 problem+json, whatever the method or body. */
export const unknownRoute = defineRoute({
  path: "/api/v1/{unknown}",
  method: "GET",
  auth: "none",
  summary: "No such route",
  async handler() {
    throw new KeywardError("NOT_FOUND", "There is no such API route; see /api/v1/openapi.json.");
  },
});
