// Usage events a client reports (POST /api/v1/usage/events), checked one by one: a bad event
// refuses itself, never the others (PRODUCT.md section 8), and nothing is called accepted unless
// the recorder took it.
import type { z } from "zod";
import { toFieldIssues } from "@/lib/validation/issues";
import { type UsageEventRefusalSchema, UsageEventSchema } from "@/lib/validation/usage";
import type { UsageEvent } from "./usage-recorder";

export type UsageEventRefusal = z.output<typeof UsageEventRefusalSchema>;

/** Why an event's key cannot be metered (a refusal's code). */
export type EventKeyRefusal = "VALIDATION_FAILED" | "KEY_NOT_FOUND" | "KEY_REVOKED" | "KEY_EXPIRED";

/**
 * Whose usage an event is, from its `keyId` (undefined when it has none): the key and its
 * organization, or why the event is refused.
 */
export type EventOwner = (
  keyId: string | undefined,
) => { id: string; organizationId: string } | { refuse: EventKeyRefusal; message: string };

export interface UsageIntakeResult {
  accepted: number;
  refused: UsageEventRefusal[];
}

const FUTURE_SLACK_MS = 5 * 60_000;
const MAX_AGE_MS = 30 * 86_400_000;
/** Issues listed per refused event (an event has seven fields). */
const MAX_ISSUES_PER_EVENT = 10;

/** A calling key reports for itself alone: `keyId`, when sent, must be its own id. */
const ownKey =
  (key: { id: string; organizationId: string }): EventOwner =>
  (keyId) =>
    keyId === undefined || keyId === key.id
      ? key
      : {
          refuse: "VALIDATION_FAILED",
          message:
            "A key reports usage for itself only: leave keyId out. Report for other keys with a service credential.",
        };

/**
 * Validates each event on its own (UsageEventSchema, its key, then the occurredAt window) and
 * hands the valid ones to `record` for the calling key (or, given an EventOwner, for the key each
 * event names); `record` answers whether it kept the event.
 */
export function acceptUsageEvents(
  events: readonly unknown[],
  key: { id: string; organizationId: string } | EventOwner,
  record: (event: UsageEvent) => boolean,
  now: number = Date.now(),
): UsageIntakeResult {
  const ownerOf = typeof key === "function" ? key : ownKey(key);
  const refused: UsageEventRefusal[] = [];
  let accepted = 0;
  events.forEach((raw, index) => {
    const where = `events.${index}`;
    const parsed = UsageEventSchema.safeParse(raw);
    if (!parsed.success) {
      refused.push({
        index,
        code: "VALIDATION_FAILED",
        issues: toFieldIssues(parsed.error, where).slice(0, MAX_ISSUES_PER_EVENT),
      });
      return;
    }
    const e = parsed.data;
    const owner = ownerOf(e.keyId);
    if ("refuse" in owner) {
      refused.push({
        index,
        code: owner.refuse,
        issues: [{ path: `${where}.keyId`, message: owner.message }],
      });
      return;
    }
    const at = e.occurredAt ? new Date(e.occurredAt) : new Date(now);
    const late = at.getTime() < now - MAX_AGE_MS;
    if (late || at.getTime() > now + FUTURE_SLACK_MS) {
      refused.push({
        index,
        code: "VALIDATION_FAILED",
        issues: [
          {
            path: `${where}.occurredAt`,
            message: late ? "More than 30 days in the past." : "More than 5 minutes in the future.",
          },
        ],
      });
      return;
    }
    const kept = record({
      apiKeyId: owner.id,
      organizationId: owner.organizationId,
      endpoint: e.endpoint,
      method: e.method,
      statusCode: e.statusCode,
      responseTimeMs: e.responseTimeMs,
      tokens: e.tokens,
      costUsd: e.costUsd,
      createdAt: at,
    });
    if (kept) accepted++;
    else {
      refused.push({
        index,
        code: "UNAVAILABLE",
        issues: [{ path: where, message: "Usage intake is full; send this event again later." }],
      });
    }
  });
  return { accepted, refused };
}
