// The organization's key policy (PRODUCT.md section 11; owners set it): a longest lifetime, an
// expiry required, `live` keys only by admins. One pure check, called inside the create, rotate and
// update transactions with the organization's row as it is then, so every caller (API, dashboard,
// CLI) gets the same 422 naming the rule.
import type { Tx } from "@/lib/db";
import type { Organization } from "@/lib/db/generated/client";
import { type ErrorCode, KeywardError } from "@/lib/errors";
import { membershipRepository } from "@/lib/repositories/membership-repository";
import type { Actor } from "../actor";

export interface KeyPolicy {
  /** null: no limit. */
  maxKeyLifetimeDays: number | null;
  keyExpiryRequired: boolean;
  liveKeysAdminsOnly: boolean;
}

export const policyOf = (org: Organization): KeyPolicy => ({
  maxKeyLifetimeDays: org.maxKeyLifetimeDays,
  keyExpiryRequired: org.keyExpiryRequired,
  liveKeysAdminsOnly: org.liveKeysAdminsOnly,
});

const DAY_MS = 86_400_000;

function refuse(code: ErrorCode, message: string, path?: string): KeywardError {
  return new KeywardError(code, message, path ? { issues: [{ path, message }] } : {});
}

export interface PolicySubject {
  environment: "live" | "test";
  expiresAt: Date | null;
  /** Where the lifetime counts from: now for a new key, its creation for an existing one. */
  from: Date;
  /** An organization admin or owner, or the operator (CLI). */
  byAdmin: boolean;
}

/** Throws the 422 of the first rule `key` breaks; `verb` words the message. */
export function checkKeyPolicy(
  policy: KeyPolicy,
  key: PolicySubject,
  verb: "create" | "rotate" | "update",
): void {
  if (policy.liveKeysAdminsOnly && key.environment === "live" && !key.byAdmin) {
    throw refuse(
      "POLICY_LIVE_ADMINS_ONLY",
      `The organization's key policy lets only admins and owners ${verb} live keys (in the dashboard); an API key cannot.`,
      verb === "create" ? "environment" : undefined,
    );
  }
  const max = policy.maxKeyLifetimeDays;
  if ((policy.keyExpiryRequired || max !== null) && key.expiresAt === null) {
    throw refuse(
      policy.keyExpiryRequired ? "POLICY_EXPIRY_REQUIRED" : "POLICY_MAX_LIFETIME",
      policy.keyExpiryRequired
        ? "The organization's key policy requires every key to have an expiry."
        : `The organization's key policy limits keys to ${max} days: set an expiry.`,
      verb === "rotate" ? undefined : "expiresAt",
    );
  }
  if (
    max !== null &&
    key.expiresAt &&
    key.expiresAt.getTime() > key.from.getTime() + max * DAY_MS
  ) {
    const latest = new Date(key.from.getTime() + max * DAY_MS).toISOString().slice(0, 10);
    throw refuse(
      "POLICY_MAX_LIFETIME",
      `The organization's key policy limits keys to ${max} days: expire it by ${latest}.`,
      verb === "rotate" ? undefined : "expiresAt",
    );
  }
}

/** Whether the actor counts as an admin for the policy: a member with ADMIN or OWNER, or the operator. */
export async function isAdminActor(tx: Tx, organizationId: string, actor: Actor): Promise<boolean> {
  if (actor.type === "cli" || actor.type === "system") return true;
  if (actor.type !== "user" || !actor.id) return false;
  const role = await membershipRepository.getRole(tx, organizationId, actor.id);
  return role === "OWNER" || role === "ADMIN";
}
