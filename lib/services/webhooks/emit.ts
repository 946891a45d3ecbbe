// Typed emitters over the outbox writer: `data` must match the event's payload schema
// (lib/validation/webhook-events.ts). Call inside the transaction of the change.
import type { Prisma, Tx } from "@/lib/db";
import type { WebhookPayloads } from "@/lib/validation/webhook-events";
import { enqueueWebhookEvent } from "./enqueue";
import type { WebhookEventType } from "./events";

export function emitWebhookEvent<T extends WebhookEventType>(
  tx: Tx,
  organizationId: string,
  type: T,
  data: WebhookPayloads[T],
  dedupeKey?: string,
): Promise<string | null> {
  return enqueueWebhookEvent(tx, {
    organizationId,
    type,
    data: data as Prisma.InputJsonValue,
    dedupeKey,
  });
}
