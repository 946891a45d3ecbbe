// What every key verb shares: the view a key leaves the service as, the input checks each caller
// (API, dashboard, CLI) gets the same 422 from, and the rules a change runs under (the plan's key
// limit, the actor's privilege ceiling, the audit row).
import type { Tx } from "@/lib/db";
import type { Organization } from "@/lib/db/generated/client";
import { KeywardError, validationFailed } from "@/lib/errors";
import { effectiveStatus, toDbEnvironment } from "@/lib/keys";
import { type ApiKeyRecord, apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { KeyOutput } from "@/lib/validation/keys";
import type { Actor } from "../actor";
import { type Ceiling, type KeyRights, keyCeiling, planCeiling } from "../privilege-ceiling";
import { budgetView } from "./credits";

/** Above the key repository a key's environment is `live` or `test`, lowercase, only. */
export type EnvironmentInput = "live" | "test";
export type KeyView = KeyOutput;

/** Restricts what a caller sees: a test key sees only test keys. */
export interface Visibility {
  environment?: "live" | "test";
}

export function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}

export { effectiveStatus };

/** A key as it may leave the service: no hash, no plaintext. */
export function toKeyView(key: ApiKeyRecord, now: Date = new Date()): KeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    hint: key.hint,
    environment: key.environment === "TEST" ? "test" : "live",
    status: effectiveStatus(key, now),
    scopes: [...key.scopes],
    expiresAt: iso(key.expiresAt),
    rateLimitPerMinute: key.rateLimitPerMinute,
    lastUsedAt: iso(key.lastUsedAt),
    requestCount: key.requestCount,
    createdAt: key.createdAt.toISOString(),
    updatedAt: key.updatedAt.toISOString(),
    revokedAt: iso(key.revokedAt),
    revokedReason: key.revokedReason,
    rotatedToId: key.rotatedToId,
    ...budgetView(key),
    leak: key.leakedAt
      ? { reportedAt: key.leakedAt.toISOString(), source: key.leakSource, url: key.leakUrl }
      : null,
    allowedCidrs: [...key.allowedCidrs],
    externalId: key.externalId,
    meta: key.meta,
  };
}

export function visible(key: ApiKeyRecord | null, v: Visibility): ApiKeyRecord | null {
  if (!key) return null;
  if (v.environment && key.environment !== toDbEnvironment(v.environment)) return null;
  return key;
}

// ---------------------------------------------------------------------------------------------
// Input checks shared by every caller (API, dashboard, CLI), so each gets the same 422.

export { check } from "./check";

export function toDate(
  value: Date | string | null | undefined,
  path: string,
): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw validationFailed([{ path, message: "Not a valid date and time." }]);
  }
  return d;
}

export function futureExpiry(d: Date | null | undefined, now: Date): Date | null | undefined {
  if (d && d.getTime() <= now.getTime()) {
    throw validationFailed([{ path: "expiresAt", message: "The expiry must be in the future." }]);
  }
  if (d && d.getTime() > now.getTime() + 10 * 366 * 86_400_000) {
    throw validationFailed([
      { path: "expiresAt", message: "The expiry is more than 10 years away." },
    ]);
  }
  return d;
}

export function environmentOf(value: unknown): "live" | "test" {
  if (value === "live" || value === "test") return value;
  throw validationFailed([{ path: "environment", message: 'Expected "live" or "test".' }]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === "string" && UUID.test(s);

// ---------------------------------------------------------------------------------------------
// Rules a change runs under.

/**
 * Refuses one more active key past the plan's maximum. Active means status ACTIVE and not past
 * its expiry, so a rotated key still inside its grace period counts. Call it only while holding
 * the organization's row lock: then the count cannot change before this transaction commits.
 */
export async function assertKeySlot(
  tx: Tx,
  org: Organization,
  now: Date,
  what: string,
): Promise<void> {
  const active = await organizationRepository.getApiKeyCount(tx, org.id, now);
  if (active >= org.maxActiveKeys) {
    throw new KeywardError(
      "KEY_LIMIT_REACHED",
      `The organization has ${active} active keys (grace-period keys included), its plan's maximum; ${what}`,
      { extra: { limit: org.maxActiveKeys } },
    );
  }
}

export const rightsOf = (k: ApiKeyRecord): KeyRights => ({
  environment: k.environment === "TEST" ? "test" : "live",
  scopes: k.scopes,
  expiresAt: k.expiresAt,
  rateLimitPerMinute: k.rateLimitPerMinute,
  allowedCidrs: k.allowedCidrs,
});

/**
 * What the actor may grant (lib/services/privilege-ceiling.ts): a key its own rights, read here
 * inside the transaction rather than from the authentication cache; a dashboard user the plan's
 * per-minute limit; the operator CLI and the system nothing (null: no ceiling).
 */
export async function ceilingOf(
  tx: Tx,
  actor: Actor,
  org: Organization,
  now: Date,
): Promise<{ ceiling: Ceiling | null; caller: ApiKeyRecord | null }> {
  if (actor.type === "user") return { ceiling: planCeiling(org.rateLimitPerMinute), caller: null };
  if (actor.type !== "key") return { ceiling: null, caller: null };
  const caller = isUuid(actor.id) ? await apiKeyRepository.getById(tx, org.id, actor.id) : null;
  if (!caller) throw new KeywardError("KEY_NOT_FOUND", "No such API key.");
  const status = effectiveStatus(caller, now);
  if (status === "revoked") throw new KeywardError("KEY_REVOKED", "The calling key was revoked.");
  if (status === "expired") throw new KeywardError("KEY_EXPIRED", "The calling key has expired.");
  return { ceiling: keyCeiling(rightsOf(caller), org.rateLimitPerMinute), caller };
}
