// Webhook endpoints and their delivery log, as the endpoints service (API and dashboard) reads and
// changes them. Every query carries the organization id in the query itself. The delivery loop's
// claims and bookkeeping live in webhook-repository.ts.
import type { Tx } from "@/lib/db";
import type {
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEndpoint,
} from "@/lib/db/generated/client";
import {
  afterCursor,
  newestFirst,
  orNull,
  type Page,
  type PageOptions,
  pageSize,
  scopeId,
  toPage,
} from "./shared";

export type WebhookEndpointRecord = WebhookEndpoint;

export type WebhookDeliveryRecord = WebhookDelivery & {
  event: { type: string };
  attemptLog: WebhookAttempt[];
};

export interface LastDelivery {
  endpointId: string;
  status: WebhookDeliveryStatus;
  statusCode: number | null;
  at: Date;
}

/** How many attempts a delivery's log shows (the newest). */
const ATTEMPTS_SHOWN = 20;

const deliveryInclude = {
  event: { select: { type: true } },
  attemptLog: { orderBy: { attemptedAt: "desc" as const }, take: ATTEMPTS_SHOWN },
};

export const webhookEndpointRepository = {
  async count(tx: Tx, organizationId: string): Promise<number> {
    if (!scopeId(organizationId, "organizationId")) return 0;
    return tx.webhookEndpoint.count({ where: { organizationId } });
  },

  async create(
    tx: Tx,
    data: {
      organizationId: string;
      url: string;
      description: string;
      eventTypes: string[];
      enabled: boolean;
      secretSealed: string;
      createdBy: string;
    },
  ): Promise<WebhookEndpointRecord> {
    scopeId(data.organizationId, "organizationId");
    return tx.webhookEndpoint.create({ data });
  },

  async getById(tx: Tx, organizationId: string, id: string): Promise<WebhookEndpointRecord | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "endpointId")) return null;
    return tx.webhookEndpoint.findFirst({ where: { id, organizationId } });
  },

  /** Takes the endpoint's row lock (rotation reads the old secret, then writes it aside). */
  async lockForUpdate(tx: Tx, organizationId: string, id: string): Promise<boolean> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "endpointId")) return false;
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "WebhookEndpoint"
      WHERE id = ${id}::uuid AND "organizationId" = ${organizationId}::uuid
      FOR NO KEY UPDATE`;
    return rows.length > 0;
  },

  async list(
    tx: Tx,
    organizationId: string,
    options: PageOptions = {},
  ): Promise<Page<WebhookEndpointRecord>> {
    if (!scopeId(organizationId, "organizationId")) return { items: [], nextCursor: null };
    const size = pageSize(options.limit);
    const rows = await tx.webhookEndpoint.findMany({
      where: { organizationId, ...afterCursor(options.cursor) },
      orderBy: newestFirst,
      take: size + 1,
    });
    return toPage(rows, size);
  },

  async update(
    tx: Tx,
    organizationId: string,
    id: string,
    data: {
      url?: string;
      description?: string;
      eventTypes?: string[];
      enabled?: boolean;
      disabledReason?: string | null;
      failingSince?: Date | null;
      secretSealed?: string;
      previousSecretSealed?: string | null;
      previousSecretExpiresAt?: Date | null;
    },
  ): Promise<WebhookEndpointRecord | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "endpointId")) return null;
    return orNull(tx.webhookEndpoint.update({ where: { id, organizationId }, data }));
  },

  async delete(tx: Tx, organizationId: string, id: string): Promise<WebhookEndpointRecord | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "endpointId")) return null;
    return orNull(tx.webhookEndpoint.delete({ where: { id, organizationId } }));
  },

  /** The newest delivery of each endpoint named, in one query (index endpointId, createdAt). */
  async lastDeliveries(
    tx: Tx,
    organizationId: string,
    endpointIds: string[],
  ): Promise<LastDelivery[]> {
    if (!scopeId(organizationId, "organizationId") || endpointIds.length === 0) return [];
    return tx.$queryRaw<LastDelivery[]>`
      SELECT DISTINCT ON ("endpointId")
        "endpointId", status, "lastStatusCode" AS "statusCode",
        COALESCE("lastAttemptAt", "createdAt") AS at
      FROM "WebhookDelivery"
      WHERE "organizationId" = ${organizationId}::uuid
        AND "endpointId" = ANY(${endpointIds}::uuid[])
      ORDER BY "endpointId", "createdAt" DESC, id DESC`;
  },

  /** One endpoint's deliveries, newest first, with the event's type and the newest attempts. */
  async listDeliveries(
    tx: Tx,
    organizationId: string,
    endpointId: string,
    options: PageOptions & { status?: WebhookDeliveryStatus } = {},
  ): Promise<Page<WebhookDeliveryRecord>> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(endpointId, "endpointId")) {
      return { items: [], nextCursor: null };
    }
    const size = pageSize(options.limit);
    const rows = await tx.webhookDelivery.findMany({
      where: {
        organizationId,
        endpointId,
        ...(options.status ? { status: options.status } : {}),
        ...afterCursor(options.cursor),
      },
      orderBy: newestFirst,
      take: size + 1,
      include: deliveryInclude,
    });
    return toPage(rows, size);
  },

  async getDelivery(
    tx: Tx,
    organizationId: string,
    endpointId: string,
    deliveryId: string,
  ): Promise<WebhookDeliveryRecord | null> {
    if (
      !scopeId(organizationId, "organizationId") ||
      !scopeId(endpointId, "endpointId") ||
      !scopeId(deliveryId, "deliveryId")
    ) {
      return null;
    }
    return tx.webhookDelivery.findFirst({
      where: { id: deliveryId, endpointId, organizationId },
      include: deliveryInclude,
    });
  },

  async getDeliveryOfEvent(
    tx: Tx,
    organizationId: string,
    endpointId: string,
    eventId: string,
  ): Promise<WebhookDeliveryRecord | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(eventId, "eventId")) return null;
    return tx.webhookDelivery.findFirst({
      where: { eventId, endpointId, organizationId },
      include: deliveryInclude,
    });
  },

  /**
   * Puts a delivery back in the queue, due now, with a fresh retry schedule. A delivery in
   * flight (claimed, its lease not over) is left alone, so it is never sent twice at once:
   * false then.
   */
  async requeueDelivery(
    tx: Tx,
    organizationId: string,
    endpointId: string,
    deliveryId: string,
    now: Date,
  ): Promise<boolean> {
    if (
      !scopeId(organizationId, "organizationId") ||
      !scopeId(endpointId, "endpointId") ||
      !scopeId(deliveryId, "deliveryId")
    ) {
      return false;
    }
    const r = await tx.webhookDelivery.updateMany({
      where: {
        id: deliveryId,
        endpointId,
        organizationId,
        OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }],
      },
      data: {
        status: "PENDING",
        attempts: 0,
        nextAttemptAt: now,
        lockedUntil: null,
        deliveredAt: null,
      },
    });
    return r.count === 1;
  },
};
