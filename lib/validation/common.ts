// Shapes shared by every route: the problem document, ids, timestamps.
import { ERROR_CODES, type ErrorCode } from "@/lib/errors";
import { z } from "./zod";

const errorCodes = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export const UuidSchema = z.uuid().openapi({ example: "3f1e6c2a-8d4b-4c1e-9a57-0f3b2d6e7a91" });

/** Accepted on input: an RFC 3339 timestamp with a zone (Z or an offset). */
export const DateTimeInputSchema = z.iso
  .datetime({ offset: true })
  .openapi({ example: "2026-12-31T23:59:59Z" });

/** Sent on output: always UTC, ISO 8601. */
export const DateTimeSchema = z.iso.datetime().openapi({ example: "2026-11-25T12:00:00.000Z" });

export const IdParamsSchema = z.object({
  id: UuidSchema.openapi({ param: { name: "id", in: "path" } }),
});

export const FieldIssueSchema = z.object({
  path: z.string().openapi({ example: "scopes.0" }),
  message: z.string(),
});

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "https://keyward.dev/problems/validation-failed" }),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.enum(errorCodes),
    requestId: z.string(),
    issues: z.array(FieldIssueSchema).optional(),
    retryAfter: z.int().optional().openapi({ description: "Seconds to wait (429 only)." }),
  })
  .openapi("Problem", {
    description: "An RFC 9457 problem document; `code` is stable, `detail` is for people.",
  });

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    database: z.enum(["ok", "unavailable"]),
    dependencies: z.object({
      database: z.enum(["ok", "unavailable"]),
      redis: z.enum(["ok", "unavailable", "not_configured"]),
    }),
    time: DateTimeSchema,
    metering: z
      .object({
        pending: z.int().openapi({ description: "Usage events waiting to be written." }),
        written: z.int(),
        droppedByReason: z.record(z.string(), z.int()).openapi({
          description:
            "Usage events not written since start, by reason: `invalid_text`, `out_of_range` (the database refused the event alone), `orphaned` (its key was deleted), `rejected` (any other refusal), `malformed`, `buffer_full`, `shutdown`.",
          example: { invalid_text: 0, out_of_range: 0, orphaned: 0, buffer_full: 0 },
        }),
      })
      .openapi({ description: "This instance's usage recorder." }),
  })
  .openapi("Health");
