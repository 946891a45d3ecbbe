// A usage event: the one type every writer of usage hands over (the route core's metering, POST
// /api/v1/usage/events, the seed, tests), and the one normalizer that turns it into the row the
// write statement inserts (usage-rollup-repository.ts). The normalizer never lets a row fail to
// insert for reasons of its own: text is clipped to its column and made storable, numbers are
// clamped to theirs; what cannot be repaired (ids that are not uuids, a status that is not one)
// makes it refuse the event.
import { randomUUID } from "node:crypto";
import { toStorableText } from "@/lib/validation/text";
import { MAX_EVENT_RESPONSE_TIME_MS } from "@/lib/validation/usage";

export interface UsageEvent {
  apiKeyId: string;
  organizationId: string;
  endpoint: string;
  method: string;
  statusCode: number;
  responseTimeMs: number;
  tokens?: number;
  /** USD as a decimal string ("0.0042"), never a float. */
  costUsd?: string;
  ipAddress?: string | null;
  userAgent?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** When the request happened; default: now. */
  createdAt?: Date;
  /**
   * Whether the call counted against the monthly quota. Default: the status is not 401, 403 or
   * 429 (the key check refused it); verify sets it (its refusals answer 200).
   */
  billable?: boolean;
}

/** A usage event ready to insert: id given, every value normalized (toUsageRow). */
export interface UsageRow {
  id: string;
  apiKeyId: string;
  organizationId: string;
  endpoint: string;
  method: string;
  statusCode: number;
  responseTimeMs: number;
  tokens: number;
  /** Decimal string, e.g. "0.000125". */
  costUsd: string;
  ipAddress: string | null;
  userAgent: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: Date;
  billable?: boolean;
}

/** Statuses of calls the key check refused before quota was spent (not billable by default). */
export const UNBILLED_STATUS_CODES: readonly number[] = [401, 403, 429];

/** Whether a row counts against the monthly quota (see UsageEvent.billable). */
export function isBillable(row: Pick<UsageRow, "statusCode" | "billable">): boolean {
  return row.billable ?? !UNBILLED_STATUS_CODES.includes(row.statusCode);
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ApiKeyUsage.costUsd is Decimal(14,6): at most 8 integer digits; PostgreSQL rounds the rest.
export const COST_RE = /^-?\d{1,8}(\.\d+)?$/;
const INT_MAX = 2_147_483_647;

export const clip = (s: string | null | undefined, n: number): string | null =>
  s == null ? null : s.length > n ? s.slice(0, n) : s;
export const int = (n: number | undefined): number =>
  Number.isFinite(n) ? Math.min(INT_MAX, Math.max(0, Math.round(n as number))) : 0;
export const storable = (s: string | null): string | null => (s == null ? null : toStorableText(s));

/** The row for an event, with a new id; null when the event is malformed beyond repair. */
export function toUsageRow(e: UsageEvent): UsageRow | null {
  if (!UUID_RE.test(e.apiKeyId) || !UUID_RE.test(e.organizationId)) return null;
  if (!Number.isInteger(e.statusCode) || e.statusCode < 100 || e.statusCode > 999) return null;
  const createdAt =
    e.createdAt instanceof Date && !Number.isNaN(e.createdAt.getTime()) ? e.createdAt : new Date();
  return {
    id: randomUUID(),
    apiKeyId: e.apiKeyId,
    organizationId: e.organizationId,
    endpoint: clip(e.endpoint, 512) ?? "",
    method: clip(e.method, 16) ?? "",
    statusCode: e.statusCode,
    // The rollup bounds (lib/validation/usage.ts) count on latencies of at most this.
    responseTimeMs: Math.min(MAX_EVENT_RESPONSE_TIME_MS, int(e.responseTimeMs)),
    tokens: int(e.tokens),
    costUsd: e.costUsd !== undefined && COST_RE.test(e.costUsd) ? e.costUsd : "0",
    // Taken from request headers, so whatever a client sent: made storable, never refused.
    ipAddress: storable(clip(e.ipAddress, 64)),
    userAgent: storable(clip(e.userAgent, 512)),
    errorCode: clip(e.errorCode, 64),
    errorMessage: clip(e.errorMessage, 1000),
    createdAt,
    billable: typeof e.billable === "boolean" ? e.billable : undefined,
  };
}
