// The outbox writer: every emitter calls it inside the transaction that makes the change, so the
// event and the change commit (or roll back) together. The delivery loop sends what it wrote.
import type { Prisma, Tx } from "@/lib/db";
import { webhookRepository } from "@/lib/repositories/webhook-repository";
import { type AnyWebhookEventType, WEBHOOK_TEST_EVENT } from "./events";

export interface WebhookEventInput {
  organizationId: string;
  type: AnyWebhookEventType;
  /** The event's `data`: JSON, never a key's plaintext or hash. */
  data: Prisma.InputJsonValue;
  /**
   * "Send once" events (thresholds, expiry warnings, rate-limit notices) pass a key naming the
   * occasion, e.g. `quota.threshold:<org>:2026-12:80`; a second call with it enqueues nothing.
   */
  dedupeKey?: string;
  /** Limit the deliveries to these endpoints (resend, test event); default: every subscriber. */
  endpointIds?: string[];
}

/** The event's id, or null when `dedupeKey` was already used. Writes the event even with no
 *  subscriber, so the log shows what happened. */
export async function enqueueWebhookEvent(
  tx: Tx,
  input: WebhookEventInput,
): Promise<string | null> {
  if (
    input.dedupeKey &&
    !(await webhookRepository.claimMark(tx, input.organizationId, input.dedupeKey))
  ) {
    return null;
  }
  const subscribed = await webhookRepository.subscribedEndpointIds(
    tx,
    input.organizationId,
    input.type,
    input.type === WEBHOOK_TEST_EVENT,
  );
  const endpointIds = input.endpointIds
    ? subscribed.filter((id) => input.endpointIds?.includes(id))
    : subscribed;
  return webhookRepository.insertEvent(tx, {
    organizationId: input.organizationId,
    type: input.type,
    payload: input.data,
    endpointIds,
  });
}
