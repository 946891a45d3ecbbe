// /api/v1/health: no key needed. (/api/v1/openapi.json is served by lib/openapi.)
import { KeywardError } from "@/lib/errors";
import { checkDependencies, overallStatus } from "@/lib/services/dependency-health";
import { getUsageRecorder } from "@/lib/services/usage-recorder";
import { HealthSchema } from "@/lib/validation/common";
import { defineRoute } from "../route";

export const healthRoute = defineRoute({
  summary: "Health",
  description:
    "Liveness and readiness of the dependencies: `status` is `degraded` when the database or the rate limits' Redis does not answer (`dependencies` names which; checked at most once a second, each check bounded). 503 when the database does not answer; Redis being down answers 200 `degraded`, since verify keeps working on the in-process fallback (docs/operations.md).",
  path: "/api/v1/health",
  method: "GET",
  operationId: "getHealth",
  tag: "System",
  auth: "none",
  output: HealthSchema,
  async handler(ctx) {
    const dependencies = await checkDependencies(ctx.db);
    if (dependencies.database !== "ok") ctx.status = 503;
    const { pending, written, droppedByReason } = getUsageRecorder().stats();
    return {
      status: overallStatus(dependencies),
      database: dependencies.database,
      dependencies,
      time: new Date().toISOString(),
      metering: { pending, written, droppedByReason: { ...droppedByReason } },
    };
  },
});

/** Any /api/v1 path without a route: 404 problem+json, whatever the method or body. */
export const unknownRoute = defineRoute({
  path: "/api/v1/{unknown}",
  method: "GET",
  operationId: "unknownRoute",
  tag: "System",
  auth: "none",
  summary: "No such route",
  async handler() {
    throw new KeywardError("NOT_FOUND", "There is no such API route; see /api/v1/openapi.json.");
  },
});
