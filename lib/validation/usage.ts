// Usage shapes: the report query and its answer, and reported usage events.
import { DateTimeInputSchema, DateTimeSchema, UuidSchema } from "./common";
import { z } from "./zod";

export const MAX_USAGE_EVENTS = 1000;
/** Money is a decimal string, never a float: up to 8 integer and 6 fraction digits. */
export const MoneySchema = z
  .string()
  .regex(/^\d{1,8}(\.\d{1,6})?$/, 'A decimal amount in USD as a string, e.g. "0.0025".')
  .openapi({ example: "0.0025" });

export const UsageQuerySchema = z.object({
  from: DateTimeInputSchema.optional().openapi({ description: "Default: 30 days before `to`." }),
  to: DateTimeInputSchema.optional().openapi({ description: "Default: now." }),
  granularity: z.enum(["hour", "day"]).default("day"),
  keyId: UuidSchema.optional(),
  endpoint: z.string().min(1).max(200).optional(),
});
export type UsageQuery = z.infer<typeof UsageQuerySchema>;

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
    endpoint: z.string().min(1).max(200).openapi({ example: "/v1/completions" }),
    method: z
      .string()
      .regex(/^[A-Z]{1,10}$/, "An HTTP method in capitals, e.g. GET.")
      .openapi({ example: "POST" }),
    statusCode: z.int().min(100).max(599),
    responseTimeMs: z.int().min(0).max(3_600_000),
    tokens: z.int().min(0).max(1_000_000_000).optional(),
    costUsd: MoneySchema.optional(),
    occurredAt: DateTimeInputSchema.optional().openapi({
      description: "Default: when received. At most 5 minutes ahead, at most 30 days back.",
    }),
  })
  .openapi("UsageEvent");
export type UsageEventInput = z.infer<typeof UsageEventSchema>;

export const UsageEventsBodySchema = z
  .object({ events: z.array(UsageEventSchema).min(1).max(MAX_USAGE_EVENTS) })
  .openapi("UsageEventsRequest");

export const UsageEventsAcceptedSchema = z
  .object({ accepted: z.int() })
  .openapi("UsageEventsAccepted");
