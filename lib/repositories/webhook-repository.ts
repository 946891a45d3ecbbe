import { randomUUID } from "node:crypto";
import { Prisma, type Tx } from "@/lib/db";
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
   * Claims up to `limit` due PENDING deliveries of enabled endpoints, oldest due first, at most
   * `perEndpoint` per endpoint counting what `busy` says is in flight already: one statement, so
   * one short transaction. Rows another instance holds are skipped (FOR UPDATE SKIP LOCKED), and
   * a row claimed meanwhile fails the re-checked lease condition: no delivery is claimed twice.
   */
  async claimDue(
    tx: Tx,
    p: {
      now: Date;
      leaseUntil: Date;
      limit: number;
      perEndpoint: number;
      /** Attempts this process has in flight, per endpoint. */
      busy: Map<string, number>;
    },
  ): Promise<ClaimedDelivery[]> {
    const NONE = "00000000-0000-0000-0000-000000000000";
    const ids = p.busy.size > 0 ? [...p.busy.keys()] : [NONE];
    const counts = p.busy.size > 0 ? [...p.busy.values()] : [0];
    const full = [...p.busy].filter(([, n]) => n >= p.perEndpoint).map(([id]) => id);
    return tx.$queryRaw<ClaimedDelivery[]>`
      WITH due AS (
        -- The oldest due rows only (along the status/nextAttemptAt index), never a whole
        -- backlog; endpoints at their share are left out, so the others still come up.
        SELECT d.id, d."endpointId", d."nextAttemptAt"
        FROM "WebhookDelivery" d
        JOIN "WebhookEndpoint" e ON e.id = d."endpointId" AND e."organizationId" = d."organizationId"
        WHERE d.status = 'PENDING'
          AND d."nextAttemptAt" <= ${ts(p.now)}
          AND (d."lockedUntil" IS NULL OR d."lockedUntil" <= ${ts(p.now)})
          AND e.enabled
          AND d."endpointId" <> ALL(${full.length > 0 ? full : [NONE]}::uuid[])
        ORDER BY d."nextAttemptAt"
        LIMIT ${p.limit * 20}
      ), ranked AS (
        SELECT due.id, due."nextAttemptAt", COALESCE(b.n, 0) AS busy,
               row_number() OVER (PARTITION BY due."endpointId" ORDER BY due."nextAttemptAt", due.id) AS rn
        FROM due
        LEFT JOIN unnest(${ids}::uuid[], ${counts}::int[]) AS b(endpoint_id, n)
          ON b.endpoint_id = due."endpointId"
      ), candidates AS (
        SELECT id FROM ranked
        WHERE rn + busy <= ${p.perEndpoint}
        ORDER BY "nextAttemptAt"
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
    // One statement (atomic by itself): the hot path's only write per delivered message.
    const next = a.next.nextAttemptAt ? ts(a.next.nextAttemptAt) : Prisma.sql`NULL`;
    const rows = await tx.$queryRaw<{ n: number }[]>`
      WITH moved AS (
        UPDATE "WebhookDelivery" SET
          status = ${a.next.status}::"WebhookDeliveryStatus",
          attempts = attempts + 1,
          "lockedUntil" = NULL,
          "lastAttemptAt" = ${ts(a.at)},
          "lastStatusCode" = ${a.statusCode},
          "lastResponseMs" = ${a.durationMs},
          "lastError" = ${a.error},
          "nextAttemptAt" = COALESCE(${next}, "nextAttemptAt"),
          "deliveredAt" = CASE WHEN ${a.next.status} = 'DELIVERED' THEN ${ts(a.at)} ELSE "deliveredAt" END
        WHERE id = ${d.id}::uuid AND "organizationId" = ${d.organizationId}::uuid
          AND status = 'PENDING' AND "lockedUntil" = ${ts(d.lockedUntil)}
        RETURNING id
      ), logged AS (
        INSERT INTO "WebhookAttempt"
          (id, "deliveryId", "attemptedAt", "statusCode", "durationMs", error, "responseBody")
        VALUES (${randomUUID()}::uuid, ${d.id}::uuid, ${ts(a.at)}, ${a.statusCode},
                ${a.durationMs}, ${a.error}, ${a.responseBody})
      )
      SELECT count(*)::int AS n FROM moved`;
    return rows[0]?.n === 1;
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
