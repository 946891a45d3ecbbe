// /api/v1/health and /api/v1/openapi.json: no key needed.
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
    return {
      status: database === "ok" ? ("ok" as const) : ("degraded" as const),
      database,
      time: new Date().toISOString(),
    };
  },
});

export const openApiRoute = defineRoute({
  summary: "This document",
  path: "/api/v1/openapi.json",
  method: "GET",
  auth: "none",
  // Imported lazily: the document is built from these very routes.
  handler: async () => (await import("@/lib/openapi")).getOpenApiDocument(),
});
