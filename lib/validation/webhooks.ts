// Webhook endpoint and delivery shapes, written once: request parsing (API and dashboard), the
// output filter (what leaves the server: never a sealed secret) and the OpenAPI document.
import { WEBHOOK_EVENT_TYPES } from "@/lib/services/webhooks/events";
import { DateTimeSchema, UuidSchema } from "./common";
import { CursorSchema } from "./keys";
import { WEBHOOK_DESCRIPTION_MAX, WEBHOOK_URL_MAX_LENGTH } from "./rules";
import { safeText } from "./text";
import { z } from "./zod";

export { WEBHOOK_EVENT_TYPES };

export const WebhookEventTypeSchema = z
  .enum(WEBHOOK_EVENT_TYPES, { error: `One of ${WEBHOOK_EVENT_TYPES.join(", ")}.` })
  .openapi("WebhookEventType");

export const WebhookEventTypesSchema = z
  .array(WebhookEventTypeSchema)
  .min(1, "Choose at least one event type.")
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((a) => new Set(a).size === a.length, "Event types must not repeat.")
  .openapi({ example: ["key.created", "key.revoked"] });

/** The scheme, host and address rules are lib/webhooks/url-policy.ts's (422 WEBHOOK_URL_*). */
export const WebhookUrlSchema = z
  .string()
  .trim()
  .min(1, "Enter the URL that receives the events.")
  .max(WEBHOOK_URL_MAX_LENGTH, `Use at most ${WEBHOOK_URL_MAX_LENGTH} characters.`)
  .openapi({
    example: "https://hooks.example.com/keyward",
    description:
      "https only (http to loopback only when the server runs with KEYWARD_WEBHOOK_ALLOW_PRIVATE=1); no credentials; private, link-local and metadata addresses are refused (422 WEBHOOK_URL_NOT_ALLOWED), at registration and again at each delivery.",
  });

export const WebhookDescriptionSchema = safeText({
  max: WEBHOOK_DESCRIPTION_MAX,
  messages: { max: `Use at most ${WEBHOOK_DESCRIPTION_MAX} characters.` },
}).openapi({ example: "Billing service" });

export const CreateWebhookBodySchema = z
  .object({
    url: WebhookUrlSchema,
    eventTypes: WebhookEventTypesSchema,
    description: WebhookDescriptionSchema.optional(),
    enabled: z.boolean().optional().openapi({ description: "Default true." }),
  })
  .openapi("CreateWebhookRequest");

export const UpdateWebhookBodySchema = z
  .object({
    url: WebhookUrlSchema,
    eventTypes: WebhookEventTypesSchema,
    description: WebhookDescriptionSchema,
    enabled: z.boolean().openapi({
      description: "Re-enabling an endpoint the delivery loop disabled clears its failure state.",
    }),
  })
  .partial()
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: "Send at least one of url, eventTypes, description, enabled.",
  })
  .openapi("UpdateWebhookRequest");

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatusName = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
export const WebhookDeliveryStatusSchema = z
  .enum(WEBHOOK_DELIVERY_STATUSES)
  .openapi("WebhookDeliveryStatus");

export const WebhookSchema = z
  .object({
    id: UuidSchema,
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(WebhookEventTypeSchema),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().openapi({
      description: '"failing" when deliveries failed for 3 days and Keyward disabled it.',
    }),
    failingSince: DateTimeSchema.nullable().openapi({
      description: "The first failed attempt since the last success.",
    }),
    previousSecretExpiresAt: DateTimeSchema.nullable().openapi({
      description: "After a rotation the previous secret also signs until then.",
    }),
    lastDelivery: z
      .object({
        status: WebhookDeliveryStatusSchema,
        statusCode: z.int().nullable(),
        at: DateTimeSchema,
      })
      .nullable()
      .openapi({ description: "The newest delivery to this endpoint, if any." }),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  })
  .openapi("Webhook");

const SecretSchema = z.string().openapi({
  example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  description:
    "The signing secret (Standard Webhooks). Shown this once: store it where the receiver reads it.",
});

export const CreatedWebhookSchema = WebhookSchema.extend({ secret: SecretSchema }).openapi(
  "CreatedWebhook",
);

export const WebhookListSchema = z
  .object({ data: z.array(WebhookSchema), nextCursor: z.string().nullable() })
  .openapi("WebhookList");

export const ListWebhooksQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: CursorSchema.optional(),
});

export const WebhookAttemptSchema = z
  .object({
    attemptedAt: DateTimeSchema,
    statusCode: z.int().nullable(),
    durationMs: z.int(),
    error: z.string().nullable(),
    responseBody: z
      .string()
      .nullable()
      .openapi({ description: "The first 1 KiB of the receiver's answer." }),
  })
  .openapi("WebhookAttempt");

export const WebhookDeliverySchema = z
  .object({
    id: UuidSchema,
    eventId: UuidSchema.openapi({
      description: 'The event; its `webhook-id` header is "msg_" + this id without dashes.',
    }),
    eventType: z.string().openapi({ example: "key.created" }),
    status: WebhookDeliveryStatusSchema,
    attempts: z.int(),
    lastStatusCode: z.int().nullable(),
    lastResponseMs: z.int().nullable(),
    lastAttemptAt: DateTimeSchema.nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: DateTimeSchema.nullable().openapi({
      description: "When the next attempt is due (pending deliveries only).",
    }),
    deliveredAt: DateTimeSchema.nullable(),
    createdAt: DateTimeSchema,
    attemptLog: z
      .array(WebhookAttemptSchema)
      .openapi({ description: "The newest attempts first (at most 20)." }),
  })
  .openapi("WebhookDelivery");

export const WebhookDeliveryListSchema = z
  .object({ data: z.array(WebhookDeliverySchema), nextCursor: z.string().nullable() })
  .openapi("WebhookDeliveryList");

export const ListDeliveriesQuerySchema = ListWebhooksQuerySchema.extend({
  status: WebhookDeliveryStatusSchema.optional(),
});

export const DeliveryParamsSchema = z.object({
  id: UuidSchema.openapi({ param: { name: "id", in: "path" } }),
  deliveryId: UuidSchema.openapi({ param: { name: "deliveryId", in: "path" } }),
});

export const WebhookTestSentSchema = z
  .object({
    eventId: UuidSchema,
    delivery: WebhookDeliverySchema,
  })
  .openapi("WebhookTestSent");
