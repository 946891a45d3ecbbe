// /api/v1/usage (report) and /api/v1/usage/events (a service reports its own calls).
import { validationFailed } from "@/lib/errors";
import { getUsageReport } from "@/lib/services/api-key-service";
import {
  MAX_USAGE_EVENTS,
  UsageEventsAcceptedSchema,
  UsageEventsBodySchema,
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

export const usageEventsRoute = defineRoute({
  summary: "Report usage",
  description:
    "Up to 1,000 usage events of your own API, recorded for the calling key. Accepted (202) and written within about a second.",
  path: "/api/v1/usage/events",
  method: "POST",
  auth: "key",
  scopes: ["usage:write"],
  body: UsageEventsBodySchema,
  // 1,000 events of a few hundred bytes each.
  bodyLimit: 1024 * 1024,
  output: UsageEventsAcceptedSchema,
  status: 202,
  async handler(ctx) {
    const now = Date.now();
    const issues: { path: string; message: string }[] = [];
    const events = ctx.body.events.map((e, i) => {
      const at = e.occurredAt ? new Date(e.occurredAt) : new Date(now);
      if (at.getTime() > now + FUTURE_SLACK_MS) {
        issues.push({
          path: `events.${i}.occurredAt`,
          message: "More than 5 minutes in the future.",
        });
      } else if (at.getTime() < now - MAX_AGE_MS) {
        issues.push({ path: `events.${i}.occurredAt`, message: "More than 30 days in the past." });
      }
      return { ...e, at };
    });
    if (issues.length) throw validationFailed(issues.slice(0, 50));
    const key = ctx.auth.key;
    for (const e of events.slice(0, MAX_USAGE_EVENTS)) {
      meter({
        apiKeyId: key.id,
        organizationId: key.organizationId,
        endpoint: e.endpoint,
        method: e.method,
        statusCode: e.statusCode,
        responseTimeMs: e.responseTimeMs,
        tokens: e.tokens,
        costUsd: e.costUsd,
        createdAt: e.at,
      });
    }
    return { accepted: events.length };
  },
});
