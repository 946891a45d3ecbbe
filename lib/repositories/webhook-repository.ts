import type { Prisma, Tx } from "@/lib/db";

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
