// The webhook event types (PRODUCT.md section 10): the one list the API, the dashboard, the
// delivery loop and the emitters share. Payloads never carry a key's plaintext or hash.

export const WEBHOOK_EVENT_TYPES = [
  "key.created",
  "key.updated",
  "key.rotated",
  "key.revoked",
  "key.expiring",
  "key.expired",
  "key.leaked",
  "quota.threshold",
  "budget.threshold",
  "ratelimit.exceeded",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Sent by "send a test event" only; endpoints receive it whatever types they chose. */
export const WEBHOOK_TEST_EVENT = "webhook.test";

export type AnyWebhookEventType = WebhookEventType | typeof WEBHOOK_TEST_EVENT;

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}
