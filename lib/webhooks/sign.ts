// A webhook request's body and Standard Webhooks headers (https://www.standardwebhooks.com),
// signed with the `standardwebhooks` library: `webhook-id` is "msg_" + the event's id without
// dashes (the same for every attempt and every endpoint, so receivers can drop duplicates),
// `webhook-timestamp` the attempt's time in seconds, `webhook-signature` one `v1,<base64>` per
// secret, space-separated: during the 24 h after a rotation the previous secret signs too.
import { Webhook } from "standardwebhooks";

export interface WebhookMessage {
  eventId: string;
  type: string;
  /** When the event happened (the envelope's `timestamp`). */
  createdAt: Date;
  data: unknown;
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export function webhookMessageId(eventId: string): string {
  return `msg_${eventId.replaceAll("-", "")}`;
}

/** The spec's recommended envelope: `{ type, timestamp, data }`. */
export function webhookBody(message: WebhookMessage): string {
  return JSON.stringify({
    type: message.type,
    timestamp: message.createdAt.toISOString(),
    data: message.data,
  });
}

/** `secrets`: the current one first, then the previous one while it still signs. */
export function signWebhook(
  message: WebhookMessage,
  secrets: readonly string[],
  now: Date = new Date(),
): SignedRequest {
  if (secrets.length === 0) throw new Error("webhook signing: no secret");
  const id = webhookMessageId(message.eventId);
  const body = webhookBody(message);
  const signature = secrets.map((s) => new Webhook(s).sign(id, now, body)).join(" ");
  return {
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signature,
    },
  };
}
