// The webhook events' payloads (the `data` of each event), written once: the emitters are typed
// by them, a test parses every emitted payload with them, and the OpenAPI document publishes one
// JSON schema per event type under its top-level `webhooks`. No payload carries a key's plaintext
// or hash: keys travel as their public view (KeySchema).
import type { WebhookEventType } from "@/lib/services/webhooks/events";
import { DateTimeSchema, UuidSchema } from "./common";
import { KeySchema } from "./keys";
import { QUOTA_THRESHOLDS } from "./rules";
import { z } from "./zod";

/** The few fields that name a key where its whole view is not at hand (rate-limit notices). */
const KeyRefSchema = KeySchema.pick({
  id: true,
  name: true,
  prefix: true,
  hint: true,
  environment: true,
}).openapi("WebhookKeyRef");

const FieldChangeSchema = z.object({ from: z.unknown(), to: z.unknown() });

export const WEBHOOK_PAYLOAD_SCHEMAS = {
  "key.created": z.object({ key: KeySchema }),
  "key.updated": z.object({
    key: KeySchema,
    changes: z.record(z.string(), FieldChangeSchema).openapi({
      description: "Each changed field (name, scopes, expiresAt, rateLimitPerMinute): from, to.",
      example: { name: { from: "billing", to: "billing-service" } },
    }),
  }),
  "key.rotated": z.object({
    key: KeySchema.openapi({
      description: "The rotated key: active until the end of its grace period, or revoked.",
    }),
    newKeyId: UuidSchema,
    newKey: KeySchema,
    gracePeriod: z.string().openapi({ example: "24h" }),
  }),
  "key.revoked": z.object({ key: KeySchema, reason: z.string().nullable() }),
  "key.expiring": z.object({
    key: KeySchema,
    expiresAt: DateTimeSchema,
    window: z.enum(["7d", "1d"]).openapi({
      description: "Sent 7 days and 1 day before the expiry (a key found inside 1 day: 1d only).",
    }),
  }),
  "key.expired": z.object({ key: KeySchema, expiredAt: DateTimeSchema }),
  // Emitted by the leak-defence and budget features; their owners refine these shapes.
  "key.leaked": z.looseObject({ key: KeySchema }),
  "budget.threshold": z.looseObject({ organizationId: UuidSchema }),
  "quota.threshold": z.object({
    organizationId: UuidSchema,
    month: z
      .string()
      .regex(/^\d{4}-\d{2}$/)
      .openapi({ example: "2026-12", description: "The UTC month." }),
    threshold: z.union(QUOTA_THRESHOLDS.map((t) => z.literal(t))).openapi({
      description: `Percent of the monthly quota crossed: one of ${QUOTA_THRESHOLDS.join(", ")}.`,
    }),
    used: z.int().openapi({ description: "Requests this month when it was noticed." }),
    limit: z.int().openapi({ description: "The organization's monthly quota." }),
  }),
  "ratelimit.exceeded": z.object({
    key: KeyRefSchema,
    limitPerMinute: z.int(),
    windowStart: DateTimeSchema.openapi({
      description: "The start of the 5-minute window this notice covers (one per key per window).",
    }),
  }),
} as const satisfies Record<WebhookEventType, z.ZodType>;

export type WebhookPayloads = {
  [T in WebhookEventType]: z.input<(typeof WEBHOOK_PAYLOAD_SCHEMAS)[T]>;
};

/** What a receiver gets: the Standard Webhooks envelope around the event's `data`. */
export function webhookEnvelopeSchema(type: WebhookEventType) {
  return z
    .object({
      type: z.literal(type),
      timestamp: DateTimeSchema,
      data: WEBHOOK_PAYLOAD_SCHEMAS[type],
    })
    .openapi(`WebhookEvent_${type.replace(".", "_")}`);
}
