// /api/v1/webhooks/**: an organization's webhook endpoints and their deliveries, with a key of
// its own holding webhooks:read or webhooks:write. Live keys only: an endpoint receives the live
// keys' events, which a test key may not see (PRODUCT.md section 5).
import { type ErrorCode, KeywardError } from "@/lib/errors";
import { keyActor } from "@/lib/services/actor";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  resendWebhookDelivery,
  rotateWebhookSecret,
  sendWebhookTestEvent,
  updateWebhook,
} from "@/lib/services/webhooks/endpoints";
import { IdParamsSchema } from "@/lib/validation/common";
import {
  CreatedWebhookSchema,
  CreateWebhookBodySchema,
  DeliveryParamsSchema,
  ListDeliveriesQuerySchema,
  ListWebhooksQuerySchema,
  UpdateWebhookBodySchema,
  WebhookDeliveryListSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookSchema,
  WebhookTestSentSchema,
} from "@/lib/validation/webhooks";
import { defineRoute } from "../route";
import type { AuthContext } from "../types";

/** The calling key's organization; a test key is refused (403 FORBIDDEN). */
function organizationOf(auth: AuthContext): string {
  if (auth.key.environment === "test") {
    throw new KeywardError(
      "FORBIDDEN",
      "Webhook endpoints are managed with a live key: they receive the live keys' events.",
    );
  }
  return auth.key.organizationId;
}
const actorOf = (auth: AuthContext, ip: string) => keyActor(auth.key.id, ip);

const READ = { auth: "key" as const, scopes: ["webhooks:read"], tag: "Webhooks" as const };
const WRITE = { auth: "key" as const, scopes: ["webhooks:write"], tag: "Webhooks" as const };
const URL_ERRORS: ErrorCode[] = ["WEBHOOK_URL_INVALID", "WEBHOOK_URL_NOT_ALLOWED"];

export const listWebhooksRoute = defineRoute({
  ...READ,
  summary: "List webhook endpoints",
  description:
    "The organization's webhook endpoints, newest first, each with its newest delivery. Never a signing secret.",
  path: "/api/v1/webhooks",
  method: "GET",
  operationId: "listWebhooks",
  errors: ["FORBIDDEN"],
  query: ListWebhooksQuerySchema,
  output: WebhookListSchema,
  async handler(ctx) {
    const page = await listWebhooks(ctx.db, organizationOf(ctx.auth), ctx.query);
    return { data: page.items, nextCursor: page.nextCursor };
  },
});

export const createWebhookRoute = defineRoute({
  ...WRITE,
  summary: "Create a webhook endpoint",
  description:
    "Registers a URL for the chosen event types. The response holds the endpoint's signing secret this once (Standard Webhooks, `whsec_…`). The URL is checked now and again at each delivery: https only, never a private, link-local or metadata address (422 WEBHOOK_URL_INVALID or WEBHOOK_URL_NOT_ALLOWED). At most 20 endpoints per organization (409 WEBHOOK_LIMIT_REACHED).",
  path: "/api/v1/webhooks",
  method: "POST",
  operationId: "createWebhook",
  errors: ["FORBIDDEN", ...URL_ERRORS, "WEBHOOK_LIMIT_REACHED"],
  body: CreateWebhookBodySchema,
  output: CreatedWebhookSchema,
  status: 201,
  handler: (ctx) =>
    createWebhook(
      ctx.db,
      { organizationId: organizationOf(ctx.auth), ...ctx.body },
      actorOf(ctx.auth, ctx.request.ip),
    ),
});

export const getWebhookRoute = defineRoute({
  ...READ,
  summary: "Get a webhook endpoint",
  resource: "webhook",
  path: "/api/v1/webhooks/{id}",
  method: "GET",
  operationId: "getWebhook",
  errors: ["FORBIDDEN"],
  params: IdParamsSchema,
  output: WebhookSchema,
  handler: (ctx) => getWebhook(ctx.db, organizationOf(ctx.auth), ctx.params.id),
});

export const updateWebhookRoute = defineRoute({
  ...WRITE,
  summary: "Update a webhook endpoint",
  description:
    "Changes the URL (checked again), the event types, the description or `enabled`. Enabling an endpoint Keyward disabled after 3 days of failures clears its failure state.",
  resource: "webhook",
  path: "/api/v1/webhooks/{id}",
  method: "PATCH",
  operationId: "updateWebhook",
  errors: ["FORBIDDEN", ...URL_ERRORS],
  params: IdParamsSchema,
  body: UpdateWebhookBodySchema,
  output: WebhookSchema,
  handler: (ctx) =>
    updateWebhook(
      ctx.db,
      organizationOf(ctx.auth),
      ctx.params.id,
      ctx.body,
      actorOf(ctx.auth, ctx.request.ip),
    ),
});

export const deleteWebhookRoute = defineRoute({
  ...WRITE,
  summary: "Delete a webhook endpoint",
  description: "Deletes the endpoint and its delivery log; pending deliveries are dropped.",
  resource: "webhook",
  path: "/api/v1/webhooks/{id}",
  method: "DELETE",
  operationId: "deleteWebhook",
  errors: ["FORBIDDEN"],
  params: IdParamsSchema,
  output: WebhookSchema,
  handler: (ctx) =>
    deleteWebhook(
      ctx.db,
      organizationOf(ctx.auth),
      ctx.params.id,
      actorOf(ctx.auth, ctx.request.ip),
    ),
});

export const rotateWebhookSecretRoute = defineRoute({
  ...WRITE,
  summary: "Rotate a webhook endpoint's signing secret",
  description:
    "A new signing secret, shown this once. For 24 hours the previous secret signs too (both signatures in `webhook-signature`), so the receiver can switch without losing a message.",
  resource: "webhook",
  path: "/api/v1/webhooks/{id}/rotate-secret",
  method: "POST",
  operationId: "rotateWebhookSecret",
  errors: ["FORBIDDEN"],
  params: IdParamsSchema,
  output: CreatedWebhookSchema,
  handler: (ctx) =>
    rotateWebhookSecret(
      ctx.db,
      organizationOf(ctx.auth),
      ctx.params.id,
      actorOf(ctx.auth, ctx.request.ip),
    ),
});

export const listWebhookDeliveriesRoute = defineRoute({
  ...READ,
  summary: "List an endpoint's deliveries",
  description:
    "The endpoint's deliveries, newest first: event type, status, attempts, the last response's code and time, the next retry, and the newest attempts.",
  resource: "webhook",
  path: "/api/v1/webhooks/{id}/deliveries",
  method: "GET",
  operationId: "listWebhookDeliveries",
  errors: ["FORBIDDEN"],
  params: IdParamsSchema,
  query: ListDeliveriesQuerySchema,
  output: WebhookDeliveryListSchema,
  async handler(ctx) {
    const page = await listWebhookDeliveries(
      ctx.db,
      organizationOf(ctx.auth),
      ctx.params.id,
      ctx.query,
    );
    return { data: page.items, nextCursor: page.nextCursor };
  },
});

export const resendWebhookDeliveryRoute = defineRoute({
  ...WRITE,
  summary: "Resend a delivery",
  description:
    "Puts the delivery back in the queue, due now, with a fresh retry schedule and the same `webhook-id`. 409 CONFLICT while it is being sent.",
  resource: "delivery",
  path: "/api/v1/webhooks/{id}/deliveries/{deliveryId}/resend",
  method: "POST",
  operationId: "resendWebhookDelivery",
  errors: ["FORBIDDEN", "CONFLICT"],
  params: DeliveryParamsSchema,
  output: WebhookDeliverySchema,
  status: 202,
  handler: (ctx) =>
    resendWebhookDelivery(ctx.db, organizationOf(ctx.auth), ctx.params.id, ctx.params.deliveryId),
});

export const sendWebhookTestRoute = defineRoute({
  ...WRITE,
  summary: "Send a test event",
  description:
    "Queues a `webhook.test` event for this endpoint only, whatever event types it chose. 409 CONFLICT when the endpoint is disabled.",
  resource: "webhook",
  path: "/api/v1/webhooks/{id}/test",
  method: "POST",
  operationId: "sendWebhookTestEvent",
  errors: ["FORBIDDEN", "CONFLICT"],
  params: IdParamsSchema,
  output: WebhookTestSentSchema,
  status: 202,
  handler: (ctx) => sendWebhookTestEvent(ctx.db, organizationOf(ctx.auth), ctx.params.id),
});
