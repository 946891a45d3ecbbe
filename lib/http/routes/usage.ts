// /api/v1/usage (report) and /api/v1/usage/events (a service reports its own calls).
import { KeywardError } from "@/lib/errors";
import { getUsageReport } from "@/lib/services/api-key-service";
import { acceptServiceUsageEvents } from "@/lib/services/service-credentials";
import { acceptUsageEvents } from "@/lib/services/usage-intake";
import {
  UsageEventsAcceptedSchema,
  UsageEventsBodySchema,
  UsageEventsIntakeSchema,
  UsageQuerySchema,
  UsageReportSchema,
} from "@/lib/validation/usage";
import { meter } from "../metering";
import { defineRoute } from "../route";
import { visibilityOf } from "./keys";

export const usageReportRoute = defineRoute({
  summary: "Usage report",
  description:
    "Totals and a time series (hour or day buckets) for the organization, a key or an endpoint.",
  path: "/api/v1/usage",
  method: "GET",
  auth: "key",
  scopes: ["usage:read"],
  query: UsageQuerySchema,
  output: UsageReportSchema,
  handler: (ctx) =>
    getUsageReport(ctx.db, ctx.auth.key.organizationId, ctx.query, visibilityOf(ctx.auth)),
});

/**
 * Each event is checked on its own (PRODUCT.md section 8: one bad event never stops the others):
 * the answer says how many were accepted and, per refused event, its index and why. Nothing is
 * called accepted unless the recorder took it. 422 when every event broke a rule; 503 when none
 * was accepted and intake was full.
 */
export const usageEventsRoute = defineRoute({
  summary: "Report usage",
  description:
    "Up to 1,000 usage events of your own API, recorded for the calling key. Each event is checked on its own: the answer (202) counts the accepted ones, written within about a second, and lists every refused one with its index and the reasons. When none is accepted: 422 `VALIDATION_FAILED` (or 503 `UNAVAILABLE` when intake is full), with the same `refused` list.\n\nYour own services report for your customers' keys with a **service credential** (`Authorization: Bearer ksvc_…`, scope `usage:report`, created with `npm run keyward -- service:create`) instead: then every event names its key in `keyId` (the `keyId` verify returned) and is metered to that key and its organization; the customer's key needs no `usage:write`. An event whose key is unknown (or of an organization the credential does not cover), revoked or expired is refused on its own (`KEY_NOT_FOUND`, `KEY_REVOKED`, `KEY_EXPIRED`).",
  path: "/api/v1/usage/events",
  method: "POST",
  auth: "key",
  scopes: ["usage:write"],
  serviceScopes: ["usage:report"],
  body: UsageEventsIntakeSchema,
  documentedBody: UsageEventsBodySchema,
  // 1,000 events of a few hundred bytes each.
  bodyLimit: 1024 * 1024,
  output: UsageEventsAcceptedSchema,
  status: 202,
  async handler(ctx) {
    const { accepted, refused } = ctx.service
      ? await acceptServiceUsageEvents(ctx.db, ctx.service, ctx.body.events, meter)
      : acceptUsageEvents(ctx.body.events, ctx.auth.key, meter);
    if (accepted === 0) {
      const full = refused.some((r) => r.code === "UNAVAILABLE");
      throw new KeywardError(
        full ? "UNAVAILABLE" : "VALIDATION_FAILED",
        full
          ? "Usage intake is full; no event was accepted. Send them again later."
          : "No event was accepted; see refused (per event) and issues.",
        {
          issues: full ? undefined : refused.flatMap((r) => r.issues).slice(0, 50),
          extra: { refused },
        },
      );
    }
    return { accepted, refused };
  },
});
