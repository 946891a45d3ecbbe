import type { Prisma, Tx } from "@/lib/db";
import { ts } from "./shared";

export const webhookRepository = {
  /** Inserts the "send once" mark; false when it was already there (then send nothing). */
  async claimMark(tx: Tx, organizationId: string, dedupeKey: string): Promise<boolean> {
    const r = await tx.webhookEventMark.createMany({
      data: [{ organizationId, dedupeKey }],
      skipDuplicates: true,
    });
    return r.count === 1;
  },

  /** Ids of the organization's enabled endpoints that receive `type` (all, for the test event). */
  async subscribedEndpointIds(
    tx: Tx,
    organizationId: string,
    type: string,
    allTypes: boolean,
  ): Promise<string[]> {
    const rows = await tx.webhookEndpoint.findMany({
      where: {
        organizationId,
        enabled: true,
        ...(allTypes ? {} : { eventTypes: { has: type } }),
      },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  },

  /** The event row and one PENDING delivery per endpoint, due now. */
  async insertEvent(
    tx: Tx,
    input: {
      organizationId: string;
      type: string;
      payload: Prisma.InputJsonValue;
      endpointIds: string[];
    },
  ): Promise<string> {
    const event = await tx.webhookEvent.create({
      data: { organizationId: input.organizationId, type: input.type, payload: input.payload },
      select: { id: true },
    });
    if (input.endpointIds.length > 0) {
      await tx.webhookDelivery.createMany({
        data: input.endpointIds.map((endpointId) => ({
          eventId: event.id,
          endpointId,
          organizationId: input.organizationId,
        })),
      });
    }
    return event.id;
  },
};

/** A delivery the loop claimed: in flight until `lockedUntil` (its lease, also its token). */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  organizationId: string;
  attempts: number;
  createdAt: Date;
  lockedUntil: Date;
}

// The delivery loop's queries (lib/services/webhooks/delivery.ts). Claiming spans organizations
// (the loop serves them all); every other query names the delivery's organization too.
export const webhookDeliveryRepository = {
  /**
   * Claims up to `limit` due PENDING deliveries of enabled endpoints, at most `perEndpoint` per
   * endpoint and none of `skipEndpointIds`, oldest due first: one statement, so one short
   * transaction. Rows another instance holds are skipped (FOR UPDATE SKIP LOCKED), and a row
   * claimed meanwhile fails the re-checked lease condition, so no delivery is claimed twice.
   */
  async claimDue(
    tx: Tx,
    p: {
      now: Date;
      leaseUntil: Date;
      limit: number;
      perEndpoint: number;
      skipEndpointIds: string[];
    },
  ): Promise<ClaimedDelivery[]> {
    const skip =
      p.skipEndpointIds.length > 0 ? p.skipEndpointIds : ["00000000-0000-0000-0000-000000000000"];
    return tx.$queryRaw<ClaimedDelivery[]>`
      WITH candidates AS (
        SELECT c.id FROM (
          SELECT d.id, d."nextAttemptAt",
                 row_number() OVER (PARTITION BY d."endpointId" ORDER BY d."nextAttemptAt", d.id) AS rn
          FROM "WebhookDelivery" d
          JOIN "WebhookEndpoint" e ON e.id = d."endpointId" AND e."organizationId" = d."organizationId"
          WHERE d.status = 'PENDING'
            AND d."nextAttemptAt" <= ${ts(p.now)}
            AND (d."lockedUntil" IS NULL OR d."lockedUntil" <= ${ts(p.now)})
            AND e.enabled
            AND d."endpointId" <> ALL(${skip}::uuid[])
          -- The oldest due rows only (along the status/nextAttemptAt index), not every backlog:
          -- an endpoint that fills its share is skipped next round, so the rest still come up.
          ORDER BY d."nextAttemptAt"
          LIMIT ${p.limit * 50}
        ) c
        WHERE c.rn <= ${p.perEndpoint}
        ORDER BY c."nextAttemptAt"
        LIMIT ${p.limit}
      ), locked AS (
        SELECT d.id FROM "WebhookDelivery" d
        WHERE d.id IN (SELECT id FROM candidates)
          AND d.status = 'PENDING'
          AND (d."lockedUntil" IS NULL OR d."lockedUntil" <= ${ts(p.now)})
        FOR UPDATE SKIP LOCKED
      )
      UPDATE "WebhookDelivery" d SET "lockedUntil" = ${ts(p.leaseUntil)}
      FROM locked WHERE d.id = locked.id
      RETURNING d.id, d."eventId", d."endpointId", d."organizationId", d.attempts,
                d."createdAt", d."lockedUntil"`;
  },

  /** Gives a claimed delivery back unsent (shutdown, or more than its endpoint's share). */
  async release(tx: Tx, d: ClaimedDelivery): Promise<void> {
    await tx.webhookDelivery.updateMany({
      where: { id: d.id, organizationId: d.organizationId, lockedUntil: d.lockedUntil },
      data: { lockedUntil: null },
    });
  },

  /** What the attempts need: each delivery's event and its endpoint's URL and sealed secrets. */
  async loadForSend(tx: Tx, claimed: ClaimedDelivery[]) {
    if (claimed.length === 0) return [];
    return tx.webhookDelivery.findMany({
      where: {
        OR: claimed.map((d) => ({ id: d.id, organizationId: d.organizationId })),
      },
      select: {
        id: true,
        event: { select: { id: true, type: true, payload: true, createdAt: true } },
        endpoint: {
          select: {
            url: true,
            enabled: true,
            secretSealed: true,
            previousSecretSealed: true,
            previousSecretExpiresAt: true,
            failingSince: true,
          },
        },
      },
    });
  },

  /**
   * Logs the attempt and moves the delivery on, if this process still holds its lease (false:
   * the lease ran out and another instance took the delivery over; the attempt is still logged).
   */
  async recordAttempt(
    tx: Tx,
    d: ClaimedDelivery,
    a: {
      at: Date;
      statusCode: number | null;
      durationMs: number;
      error: string | null;
      responseBody: string | null;
      next: { status: "DELIVERED" | "PENDING" | "FAILED"; nextAttemptAt?: Date };
    },
  ): Promise<boolean> {
    await tx.webhookAttempt.create({
      data: {
        deliveryId: d.id,
        attemptedAt: a.at,
        statusCode: a.statusCode,
        durationMs: a.durationMs,
        error: a.error,
        responseBody: a.responseBody,
      },
    });
    const r = await tx.webhookDelivery.updateMany({
      where: {
        id: d.id,
        organizationId: d.organizationId,
        status: "PENDING",
        lockedUntil: d.lockedUntil,
      },
      data: {
        status: a.next.status,
        attempts: { increment: 1 },
        lockedUntil: null,
        lastAttemptAt: a.at,
        lastStatusCode: a.statusCode,
        lastResponseMs: a.durationMs,
        lastError: a.error,
        ...(a.next.nextAttemptAt ? { nextAttemptAt: a.next.nextAttemptAt } : {}),
        ...(a.next.status === "DELIVERED" ? { deliveredAt: a.at } : {}),
      },
    });
    return r.count === 1;
  },

  async endpointSucceeded(tx: Tx, organizationId: string, endpointId: string): Promise<void> {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpointId, organizationId, failingSince: { not: null } },
      data: { failingSince: null },
    });
  },

  /**
   * Marks the endpoint failing (from now, unless it already was); disables it when it has been
   * failing since `disableIfFailingSince` or earlier. True when this call disabled it.
   */
  async endpointFailed(
    tx: Tx,
    organizationId: string,
    endpointId: string,
    now: Date,
    disableIfFailingSince: Date,
  ): Promise<boolean> {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpointId, organizationId, failingSince: null },
      data: { failingSince: now },
    });
    const r = await tx.webhookEndpoint.updateMany({
      where: {
        id: endpointId,
        organizationId,
        enabled: true,
        failingSince: { lte: disableIfFailingSince },
      },
      data: { enabled: false, disabledReason: "failing" },
    });
    return r.count === 1;
  },

  /** For the "endpoint disabled" mail: the endpoint, its organization and its admins' emails. */
  async disabledNotice(tx: Tx, organizationId: string, endpointId: string) {
    const endpoint = await tx.webhookEndpoint.findFirst({
      where: { id: endpointId, organizationId },
      select: {
        url: true,
        description: true,
        organization: { select: { name: true, slug: true } },
      },
    });
    if (!endpoint) return null;
    const admins = await tx.membership.findMany({
      where: { organizationId, role: { in: ["OWNER", "ADMIN"] } },
      select: { user: { select: { email: true } } },
    });
    return {
      url: endpoint.url,
      description: endpoint.description,
      organizationName: endpoint.organization.name,
      organizationSlug: endpoint.organization.slug,
      emails: admins.map((m) => m.user.email),
    };
  },
};
