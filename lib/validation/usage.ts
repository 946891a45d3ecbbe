// Usage shapes: the report query and its answer, and reported usage events.
import { DateTimeInputSchema, DateTimeSchema, FieldIssueSchema, UuidSchema } from "./common";
import { safeText } from "./text";
import { z } from "./zod";

export const MAX_USAGE_EVENTS = 1000;

// Bounds of one reported event: what its ApiKeyUsage columns hold AND what the rollups it is
// added to (prisma/schema.prisma UsageRollup, written by usage-rollup-repository.ts) can sum at
// the largest plan's most (PRODUCT.md section 4: ENTERPRISE, 10,000 requests per minute per key,
// 1,000 active keys), so metering can never fail for a value we accepted.
//   events per organization per minute <= 10,000 req x 1,000 keys x 1,001 events per request
//     (up to 1,000 reported plus the request's own metering event, which carries no tokens or
//     cost and whose latency the recorder caps at MAX_EVENT_RESPONSE_TIME_MS)  = 1.001e10
//   a day's rollup (the ORGANIZATION level sums every key):  x 1,440 min  = 1.44144e13 events
//   a month's sum of day rollups (31 days)                                 = 4.4685e14 events
//   tokens:       UsageRollup.tokens BigInt (max 9.223e18): day 600,000 x 1.44144e13 = 8.65e18  OK
//                 (ApiKeyUsage.tokens Int, max 2.147e9: OK)
//   latency:      UsageRollup.latencySumMs BigInt: day 600,000 ms x 1.44144e13 = 8.65e18        OK
//                 (ApiKeyUsage.responseTimeMs Int: OK)
//   cost:         UsageRollup.costUsd Decimal(20,6) (max 99,999,999,999,999.999999 < 1e14):
//                 day 5 x 1.44144e13 = 7.21e13                                                 OK
//                 (ApiKeyUsage.costUsd Decimal(14,6), max 99,999,999.999999: OK)
//   requests, status counts, billable, latencyCounts, requestCount: BigInt, a day's 1.44e13 OK.
// A month is not a stored rollup: reads sum day rollups (usage-repository.ts). At this rate no
// sensible bound keeps a month inside the day columns' types (it would take <= $0.22, <= 20,600
// tokens and <= 20.6 s per event). Reads sum tokens, latency and cost as unbounded numeric (cost
// rounded to 6 places, never cast back to a bounded type), so a long range cannot overflow when
// read. The report's token total is a JSON number: exact up to 2^53 (9.0e15), past which a range
// at the very most would fail the output schema. The monthly quota (ENTERPRISE 100,000,000
// requests) keeps real months far lower.
export const MAX_EVENT_RESPONSE_TIME_MS = 600_000;
export const MAX_EVENT_TOKENS = 600_000;
export const MAX_EVENT_COST_USD = 5;

/** Money is a decimal string, never a float: up to 6 fraction digits (totals may be large). */
export const MoneySchema = z
  .string()
  .regex(/^\d{1,20}(\.\d{1,6})?$/, 'A decimal amount in USD as a string, e.g. "0.0025".')
  .openapi({ example: "0.0025" });

/** One event's cost: a decimal string from 0 to MAX_EVENT_COST_USD, up to 6 fraction digits. */
export const EventCostSchema = z
  .string()
  .regex(
    /^(?:[0-4](?:\.\d{1,6})?|5(?:\.0{1,6})?)$/,
    `A decimal amount in USD as a string, from 0 to ${MAX_EVENT_COST_USD} with up to 6 fraction digits, e.g. "0.0025".`,
  )
  .openapi({
    example: "0.0025",
    description: `USD, at most ${MAX_EVENT_COST_USD}.000000 per event (split a larger charge into several events).`,
  });

export const UsageQuerySchema = z.object({
  from: DateTimeInputSchema.optional().openapi({ description: "Default: 30 days before `to`." }),
  to: DateTimeInputSchema.optional().openapi({ description: "Default: now." }),
  granularity: z.enum(["hour", "day"]).default("day"),
  keyId: UuidSchema.optional(),
  endpoint: z.string().min(1).max(200).optional(),
});

const UsageFiguresSchema = z.object({
  requests: z.int(),
  errors: z.int().openapi({ description: "Responses with status 400 or above." }),
  tokens: z.int(),
  costUsd: MoneySchema,
  avgResponseTimeMs: z.number(),
});

export const UsageReportSchema = z
  .object({
    from: DateTimeSchema,
    to: DateTimeSchema,
    granularity: z.enum(["hour", "day"]),
    totals: UsageFiguresSchema.extend({
      p50ResponseTimeMs: z.number().nullable().openapi({
        description:
          "Median latency of every request in the range (from merged latency histograms, within 2%); null with no requests.",
      }),
      p95ResponseTimeMs: z.number().nullable(),
    }),
    series: z.array(UsageFiguresSchema.extend({ bucket: DateTimeSchema })),
  })
  .openapi("UsageReport");

export const UsageEventSchema = z
  .object({
    keyId: UuidSchema.optional().openapi({
      description:
        "The key whose usage this is: the `keyId` verify returned. Required when reporting with a service credential; with a key, leave it out (a key reports for itself only).",
    }),
    endpoint: safeText({ min: 1, max: 200 }).openapi({ example: "/v1/completions" }),
    method: safeText({ min: 1, max: 10 })
      .regex(/^[A-Z]{1,10}$/, "An HTTP method in capitals, e.g. GET.")
      .openapi({ example: "POST" }),
    statusCode: z.int().min(100).max(599),
    responseTimeMs: z.int().min(0).max(MAX_EVENT_RESPONSE_TIME_MS),
    tokens: z.int().min(0).max(MAX_EVENT_TOKENS).optional(),
    costUsd: EventCostSchema.optional(),
    occurredAt: DateTimeInputSchema.optional().openapi({
      description: "Default: when received. At most 5 minutes ahead, at most 30 days back.",
    }),
  })
  .openapi("UsageEvent");

export const UsageEventsBodySchema = z
  .object({ events: z.array(UsageEventSchema).min(1).max(MAX_USAGE_EVENTS) })
  .openapi("UsageEventsRequest");

/**
 * What POST /usage/events parses first: only the list's bounds. Each event is then checked on its
 * own against UsageEventSchema, so one bad event refuses itself, not the batch; the OpenAPI
 * document shows UsageEventsBodySchema.
 */
export const UsageEventsIntakeSchema = z.object({
  events: z.array(z.unknown()).min(1).max(MAX_USAGE_EVENTS),
});

export const UsageEventRefusalSchema = z
  .object({
    index: z.int().min(0).openapi({ description: "The event's position in `events`." }),
    code: z
      .enum(["VALIDATION_FAILED", "UNAVAILABLE", "KEY_NOT_FOUND", "KEY_REVOKED", "KEY_EXPIRED"])
      .openapi({
        description:
          "`VALIDATION_FAILED`: the event breaks a rule (see issues); `UNAVAILABLE`: usage intake is full or shutting down, send the event again later; `KEY_NOT_FOUND`, `KEY_REVOKED`, `KEY_EXPIRED` (service credentials): the key `keyId` names does not exist (or is of an organization the credential does not cover), is revoked, or has expired.",
      }),
    issues: z.array(FieldIssueSchema).openapi({
      description: "What is wrong, by field path (`events.3.costUsd`).",
    }),
  })
  .openapi("UsageEventRefusal");

export const UsageEventsAcceptedSchema = z
  .object({
    accepted: z.int().openapi({ description: "Events accepted and queued for writing." }),
    refused: z.array(UsageEventRefusalSchema).openapi({
      description: "Every event not accepted, with why; empty when all were accepted.",
    }),
  })
  .openapi("UsageEventsAccepted");
