// /api/v1/usage (report) and /api/v1/usage/events (a service reports its own calls).
import type { z } from "zod";
import { KeywardError } from "@/lib/errors";
import { getUsageReport } from "@/lib/services/api-key-service";
import { toFieldIssues } from "@/lib/validation/issues";
import {
  type UsageEventRefusalSchema,
  UsageEventSchema,
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

const FUTURE_SLACK_MS = 5 * 60_000;
const MAX_AGE_MS = 30 * 86_400_000;

type Refusal = z.input<typeof UsageEventRefusalSchema>;

/**
 * Each event is checked on its own (PRODUCT.md section 8: one bad event never stops the others):
 * the answer says how many were accepted and, per refused event, its index and why. Nothing is
 * called accepted unless the recorder took it. 422 when every event broke a rule; 503 when none
 * was accepted and intake was full.
 */
export const usageEventsRoute = defineRoute({
  summary: "Report usage",
  description:
    "Up to 1,000 usage events of your own API, recorded for the calling key. Each event is checked on its own: the answer (202) counts the accepted ones, written within about a second, and lists every refused one with its index and the reasons. When none is accepted: 422 `VALIDATION_FAILED` (or 503 `UNAVAILABLE` when intake is full), with the same `refused` list.",
  path: "/api/v1/usage/events",
  method: "POST",
  auth: "key",
  scopes: ["usage:write"],
  body: UsageEventsIntakeSchema,
  documentedBody: UsageEventsBodySchema,
  // 1,000 events of a few hundred bytes each.
  bodyLimit: 1024 * 1024,
  output: UsageEventsAcceptedSchema,
  status: 202,
  async handler(ctx) {
    const now = Date.now();
    const key = ctx.auth.key;
    const refused: Refusal[] = [];
    let accepted = 0;
    ctx.body.events.forEach((raw, index) => {
      const where = `events.${index}`;
      const parsed = UsageEventSchema.safeParse(raw);
      if (!parsed.success) {
        refused.push({
          index,
          code: "VALIDATION_FAILED",
          issues: toFieldIssues(parsed.error, where).slice(0, 10),
        });
        return;
      }
      const e = parsed.data;
      const at = e.occurredAt ? new Date(e.occurredAt) : new Date(now);
      const late = at.getTime() < now - MAX_AGE_MS;
      if (late || at.getTime() > now + FUTURE_SLACK_MS) {
        const message = late
          ? "More than 30 days in the past."
          : "More than 5 minutes in the future.";
        refused.push({
          index,
          code: "VALIDATION_FAILED",
          issues: [{ path: `${where}.occurredAt`, message }],
        });
        return;
      }
      const kept = meter({
        apiKeyId: key.id,
        organizationId: key.organizationId,
        endpoint: e.endpoint,
        method: e.method,
        statusCode: e.statusCode,
        responseTimeMs: e.responseTimeMs,
        tokens: e.tokens,
        costUsd: e.costUsd,
        createdAt: at,
      });
      if (kept) accepted++;
      else {
        refused.push({
          index,
          code: "UNAVAILABLE",
          issues: [{ path: where, message: "Usage intake is full; send this event again later." }],
        });
      }
    });
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
