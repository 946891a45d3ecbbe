// The webhook endpoints service: the one place that registers, lists, changes and deletes an
// organization's endpoints, rotates their signing secrets, and reads, resends and tests their
// deliveries. The API routes and the dashboard's actions call it; roles (dashboard) and scopes
// (API) are checked by them. Every change runs in one transaction with its audit row; a signing
// secret leaves only in the return value of create and rotate.
import type { Db } from "@/lib/db";
import { KeywardError, notFound } from "@/lib/errors";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Page } from "@/lib/repositories/shared";
import {
  type LastDelivery,
  type WebhookDeliveryRecord,
  type WebhookEndpointRecord,
  webhookEndpointRepository,
} from "@/lib/repositories/webhook-endpoint-repository";
import { WEBHOOK_ENDPOINTS_MAX, WEBHOOK_PREVIOUS_SECRET_MS } from "@/lib/validation/rules";
import {
  type CreatedWebhookSchema,
  UpdateWebhookBodySchema,
  type WebhookDeliverySchema,
  type WebhookDeliveryStatusName,
  WebhookDescriptionSchema,
  WebhookEventTypesSchema,
  type WebhookSchema,
  WebhookUrlSchema,
} from "@/lib/validation/webhooks";
import type { z } from "@/lib/validation/zod";
import { generateWebhookSecret, sealSecret } from "@/lib/webhooks/secrets";
import { checkWebhookUrl, type UrlPolicyOptions } from "@/lib/webhooks/url-policy";
import { type Actor, actorLabel } from "../actor";
import { writeAudit } from "../audit";
import { check, iso, isUuid } from "../keys/shared";
import { enqueueWebhookEvent } from "./enqueue";
import { isWebhookEventType, WEBHOOK_TEST_EVENT } from "./events";

export type WebhookView = z.output<typeof WebhookSchema>;
export type CreatedWebhook = z.output<typeof CreatedWebhookSchema>;
export type WebhookDeliveryView = z.output<typeof WebhookDeliverySchema>;

/** Passed through to lib/webhooks/url-policy.ts (tests inject a resolver). */
export type WebhookUrlOptions = UrlPolicyOptions;

export interface CreateWebhookInput {
  organizationId: string;
  url: string;
  eventTypes: string[];
  description?: string;
  enabled?: boolean;
}

export interface UpdateWebhookInput {
  url?: string;
  eventTypes?: string[];
  description?: string;
  enabled?: boolean;
}

const STATUS_NAMES = {
  PENDING: "pending",
  DELIVERED: "delivered",
  FAILED: "failed",
} as const satisfies Record<string, WebhookDeliveryStatusName>;

function toWebhookView(e: WebhookEndpointRecord, last: LastDelivery | null = null): WebhookView {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes.filter(isWebhookEventType),
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    failingSince: iso(e.failingSince),
    previousSecretExpiresAt:
      e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > Date.now()
        ? e.previousSecretExpiresAt.toISOString()
        : null,
    lastDelivery: last
      ? {
          status: STATUS_NAMES[last.status],
          statusCode: last.statusCode,
          at: new Date(last.at).toISOString(),
        }
      : null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function toDeliveryView(d: WebhookDeliveryRecord): WebhookDeliveryView {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.event.type,
    status: STATUS_NAMES[d.status],
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastResponseMs: d.lastResponseMs,
    lastAttemptAt: iso(d.lastAttemptAt),
    lastError: d.lastError,
    nextAttemptAt: d.status === "PENDING" ? d.nextAttemptAt.toISOString() : null,
    deliveredAt: iso(d.deliveredAt),
    createdAt: d.createdAt.toISOString(),
    attemptLog: d.attemptLog.map((a) => ({
      attemptedAt: a.attemptedAt.toISOString(),
      statusCode: a.statusCode,
      durationMs: a.durationMs,
      error: a.error,
      responseBody: a.responseBody,
    })),
  };
}

/**
 * The URL as stored (normalized by WHATWG URL), or a 422 naming `url`: WEBHOOK_URL_INVALID for a
 * malformed or non-https one, WEBHOOK_URL_NOT_ALLOWED for one that resolves to a refused address.
 */
async function checkedUrl(raw: unknown, options: WebhookUrlOptions): Promise<string> {
  const url = check(WebhookUrlSchema, raw, "url");
  const r = await checkWebhookUrl(url, options);
  if (!r.ok) {
    throw new KeywardError(r.code, r.message, { issues: [{ path: "url", message: r.message }] });
  }
  return r.url.href;
}

/** For the audit log: the origin only, since some receivers put a token in the path or query. */
function urlOrigin(url: string): string {
  return new URL(url).origin;
}

const WEBHOOK = "webhook";

async function lastDeliveryOf(db: Db, organizationId: string, id: string) {
  const [last] = await webhookEndpointRepository.lastDeliveries(db, organizationId, [id]);
  return last ?? null;
}

export async function createWebhook(
  db: Db,
  input: CreateWebhookInput,
  actor: Actor,
  options: WebhookUrlOptions = {},
): Promise<CreatedWebhook> {
  const eventTypes = check(WebhookEventTypesSchema, input.eventTypes, "eventTypes");
  const description = check(WebhookDescriptionSchema, input.description ?? "", "description");
  const enabled = input.enabled ?? true;
  if (!isUuid(input.organizationId)) throw notFound("organization");
  // Resolving the host may take a while: never inside the transaction.
  const url = await checkedUrl(input.url, options);
  const secret = generateWebhookSecret();
  const endpoint = await db.$transaction(async (tx) => {
    // The organization row is the lock that keeps two creates from both passing the limit.
    if (!(await organizationRepository.lockForUpdate(tx, input.organizationId))) {
      throw notFound("organization");
    }
    const count = await webhookEndpointRepository.count(tx, input.organizationId);
    if (count >= WEBHOOK_ENDPOINTS_MAX) {
      throw new KeywardError(
        "WEBHOOK_LIMIT_REACHED",
        `The organization has ${count} webhook endpoints, the maximum; delete one first.`,
        { extra: { limit: WEBHOOK_ENDPOINTS_MAX } },
      );
    }
    const created = await webhookEndpointRepository.create(tx, {
      organizationId: input.organizationId,
      url,
      description,
      eventTypes,
      enabled,
      secretSealed: sealSecret(secret),
      createdBy: actorLabel(actor),
    });
    await writeAudit(tx, actor, {
      organizationId: input.organizationId,
      action: "webhook.created",
      target: { type: "webhook_endpoint", id: created.id },
      metadata: { urlOrigin: urlOrigin(url), eventTypes, enabled, description },
    });
    return created;
  });
  return { ...toWebhookView(endpoint), secret };
}

export async function listWebhooks(
  db: Db,
  organizationId: string,
  options: { limit?: number; cursor?: string | null } = {},
): Promise<Page<WebhookView>> {
  if (!isUuid(organizationId)) return { items: [], nextCursor: null };
  const page = await webhookEndpointRepository.list(db, organizationId, options);
  const last = await webhookEndpointRepository.lastDeliveries(
    db,
    organizationId,
    page.items.map((e) => e.id),
  );
  const byEndpoint = new Map(last.map((l) => [l.endpointId, l]));
  return {
    items: page.items.map((e) => toWebhookView(e, byEndpoint.get(e.id) ?? null)),
    nextCursor: page.nextCursor,
  };
}

async function getEndpointOrThrow(
  db: Db,
  organizationId: string,
  id: string,
): Promise<WebhookEndpointRecord> {
  if (!isUuid(organizationId) || !isUuid(id)) throw notFound(WEBHOOK);
  const endpoint = await webhookEndpointRepository.getById(db, organizationId, id);
  if (!endpoint) throw notFound(WEBHOOK);
  return endpoint;
}

export async function getWebhook(db: Db, organizationId: string, id: string): Promise<WebhookView> {
  const endpoint = await getEndpointOrThrow(db, organizationId, id);
  return toWebhookView(endpoint, await lastDeliveryOf(db, organizationId, id));
}

export async function updateWebhook(
  db: Db,
  organizationId: string,
  id: string,
  input: UpdateWebhookInput,
  actor: Actor,
  options: WebhookUrlOptions = {},
): Promise<WebhookView> {
  const given = check(UpdateWebhookBodySchema, input, "");
  if (!isUuid(organizationId) || !isUuid(id)) throw notFound(WEBHOOK);
  const url = given.url === undefined ? undefined : await checkedUrl(given.url, options);
  const updated = await db.$transaction(async (tx) => {
    const before = await webhookEndpointRepository.getById(tx, organizationId, id);
    if (!before) throw notFound(WEBHOOK);
    // Turning an endpoint back on starts it afresh: the loop's failure state goes with it.
    const reenabled = given.enabled === true && !before.enabled;
    const after = await webhookEndpointRepository.update(tx, organizationId, id, {
      url,
      eventTypes: given.eventTypes,
      description: given.description,
      enabled: given.enabled,
      ...(reenabled || given.enabled === false ? { disabledReason: null } : {}),
      ...(reenabled ? { failingSince: null } : {}),
    });
    if (!after) throw notFound(WEBHOOK);
    const changes: Record<string, unknown> = {};
    if (url !== undefined && url !== before.url) changes.urlOrigin = urlOrigin(url);
    if (given.eventTypes) changes.eventTypes = given.eventTypes;
    if (given.description !== undefined) changes.description = given.description;
    if (given.enabled !== undefined) changes.enabled = given.enabled;
    await writeAudit(tx, actor, {
      organizationId,
      action: "webhook.updated",
      target: { type: "webhook_endpoint", id },
      metadata: changes,
    });
    return after;
  });
  return toWebhookView(updated, await lastDeliveryOf(db, organizationId, id));
}

export async function deleteWebhook(
  db: Db,
  organizationId: string,
  id: string,
  actor: Actor,
): Promise<WebhookView> {
  if (!isUuid(organizationId) || !isUuid(id)) throw notFound(WEBHOOK);
  const deleted = await db.$transaction(async (tx) => {
    const gone = await webhookEndpointRepository.delete(tx, organizationId, id);
    if (!gone) throw notFound(WEBHOOK);
    await writeAudit(tx, actor, {
      organizationId,
      action: "webhook.deleted",
      target: { type: "webhook_endpoint", id },
      metadata: { urlOrigin: urlOrigin(gone.url), eventTypes: gone.eventTypes },
    });
    return gone;
  });
  return toWebhookView(deleted);
}

/**
 * A new signing secret, returned this once. The old one keeps signing (beside the new) for 24
 * hours, so receivers can switch without losing a message; a second rotation within that time
 * replaces the previous secret with the current one.
 */
export async function rotateWebhookSecret(
  db: Db,
  organizationId: string,
  id: string,
  actor: Actor,
): Promise<CreatedWebhook> {
  if (!isUuid(organizationId) || !isUuid(id)) throw notFound(WEBHOOK);
  const secret = generateWebhookSecret();
  const now = new Date();
  const rotated = await db.$transaction(async (tx) => {
    if (!(await webhookEndpointRepository.lockForUpdate(tx, organizationId, id))) {
      throw notFound(WEBHOOK);
    }
    const before = await webhookEndpointRepository.getById(tx, organizationId, id);
    if (!before) throw notFound(WEBHOOK);
    const previousSecretExpiresAt = new Date(now.getTime() + WEBHOOK_PREVIOUS_SECRET_MS);
    const after = await webhookEndpointRepository.update(tx, organizationId, id, {
      secretSealed: sealSecret(secret),
      previousSecretSealed: before.secretSealed,
      previousSecretExpiresAt,
    });
    if (!after) throw notFound(WEBHOOK);
    await writeAudit(tx, actor, {
      organizationId,
      action: "webhook.secret_rotated",
      target: { type: "webhook_endpoint", id },
      metadata: { previousSecretExpiresAt: previousSecretExpiresAt.toISOString() },
    });
    return after;
  });
  return {
    ...toWebhookView(rotated, await lastDeliveryOf(db, organizationId, id)),
    secret,
  };
}

const STATUS_FILTER = {
  pending: "PENDING",
  delivered: "DELIVERED",
  failed: "FAILED",
} as const satisfies Record<WebhookDeliveryStatusName, string>;

export async function listWebhookDeliveries(
  db: Db,
  organizationId: string,
  endpointId: string,
  options: { limit?: number; cursor?: string | null; status?: WebhookDeliveryStatusName } = {},
): Promise<Page<WebhookDeliveryView>> {
  await getEndpointOrThrow(db, organizationId, endpointId);
  const page = await webhookEndpointRepository.listDeliveries(db, organizationId, endpointId, {
    limit: options.limit,
    cursor: options.cursor,
    status: options.status ? STATUS_FILTER[options.status] : undefined,
  });
  return { items: page.items.map(toDeliveryView), nextCursor: page.nextCursor };
}

/**
 * Sends one delivery again: back to pending, due now, with a fresh retry schedule, under the same
 * `webhook-id` (receivers that deduplicate by it see a repeat). 409 while it is being sent.
 */
export async function resendWebhookDelivery(
  db: Db,
  organizationId: string,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDeliveryView> {
  if (!isUuid(organizationId) || !isUuid(endpointId) || !isUuid(deliveryId)) {
    throw notFound("delivery");
  }
  const now = new Date();
  const requeued = await webhookEndpointRepository.requeueDelivery(
    db,
    organizationId,
    endpointId,
    deliveryId,
    now,
  );
  const delivery = await webhookEndpointRepository.getDelivery(
    db,
    organizationId,
    endpointId,
    deliveryId,
  );
  if (!delivery) throw notFound("delivery");
  if (!requeued) {
    throw new KeywardError("CONFLICT", "This delivery is being sent right now; try again shortly.");
  }
  return toDeliveryView(delivery);
}

/** A `webhook.test` event to this endpoint only, whatever event types it chose. */
export async function sendWebhookTestEvent(
  db: Db,
  organizationId: string,
  endpointId: string,
): Promise<{ eventId: string; delivery: WebhookDeliveryView }> {
  const endpoint = await getEndpointOrThrow(db, organizationId, endpointId);
  if (!endpoint.enabled) {
    throw new KeywardError("CONFLICT", "The endpoint is disabled; enable it to send it events.");
  }
  const sent = await db.$transaction(async (tx) => {
    const eventId = await enqueueWebhookEvent(tx, {
      organizationId,
      type: WEBHOOK_TEST_EVENT,
      data: {
        endpointId,
        message: "A test event from Keyward: this endpoint receives and verifies webhooks.",
      },
      endpointIds: [endpointId],
    });
    const delivery = eventId
      ? await webhookEndpointRepository.getDeliveryOfEvent(tx, organizationId, endpointId, eventId)
      : null;
    // Disabled between the read above and this transaction.
    if (!eventId || !delivery) {
      throw new KeywardError("CONFLICT", "The endpoint is disabled; enable it to send it events.");
    }
    return { eventId, delivery };
  });
  return { eventId: sent.eventId, delivery: toDeliveryView(sent.delivery) };
}
