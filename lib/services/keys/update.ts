// Changes a key's name, scopes, expiry or rate limit, within what the actor may grant.
import type { Db } from "@/lib/db";
import { KeywardError, notFound, privilegeCeiling } from "@/lib/errors";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { money } from "@/lib/repositories/shared";
import {
  AllowedCidrsSchema,
  ExternalIdSchema,
  KeyNameSchema,
  MetaSchema,
  RateLimitPerMinuteSchema,
  ScopesSchema,
} from "@/lib/validation/keys";
import type { Actor } from "../actor";
import { writeAudit } from "../audit";
import { getKeyCache } from "../key-cache";
import { applyCeiling, changedOnly, checkSelfUpdate } from "../privilege-ceiling";
import { emitWebhookEvent } from "../webhooks/emit";
import {
  applyCreditsChange,
  type BudgetInput,
  budgetAudit,
  budgetColumns,
  withLiveCredits,
} from "./credits";
import { checkKeyPolicy, policyOf } from "./policy";
import {
  assertKeySlot,
  ceilingOf,
  check,
  effectiveStatus,
  futureExpiry,
  iso,
  isUuid,
  type KeyView,
  rightsOf,
  toDate,
  toKeyView,
  type Visibility,
  visible,
} from "./shared";

export interface UpdateKeyInput {
  name?: string;
  scopes?: string[];
  expiresAt?: Date | string | null;
  /** null: the plan's limit. */
  rateLimitPerMinute?: number | null;
  /** Credits; `remaining` sets the live balance. null: none. */
  credits?: BudgetInput["credits"];
  /** null: no cap. */
  spendLimitUsd?: BudgetInput["spendLimitUsd"];
  /** The whole new list; empty: anywhere. */
  allowedCidrs?: string[];
  externalId?: string | null;
  meta?: Record<string, unknown> | null;
}

export async function updateKey(
  db: Db,
  organizationId: string,
  keyId: string,
  input: UpdateKeyInput,
  actor: Actor,
  visibility: Visibility = {},
): Promise<KeyView> {
  const now = new Date();
  let patch: Omit<UpdateKeyInput, "credits" | "spendLimitUsd"> & { expiresAt?: Date | null } = {};
  const budget = budgetColumns({ credits: input.credits, spendLimitUsd: input.spendLimitUsd });
  if (input.name !== undefined) patch.name = check(KeyNameSchema, input.name, "name");
  if (input.scopes !== undefined) patch.scopes = check(ScopesSchema, input.scopes, "scopes");
  if (input.expiresAt !== undefined) {
    patch.expiresAt = futureExpiry(toDate(input.expiresAt, "expiresAt"), now) ?? null;
  }
  if (input.rateLimitPerMinute !== undefined) {
    patch.rateLimitPerMinute = check(
      RateLimitPerMinuteSchema,
      input.rateLimitPerMinute,
      "rateLimitPerMinute",
    );
  }
  if (input.allowedCidrs !== undefined) {
    patch.allowedCidrs = check(AllowedCidrsSchema, input.allowedCidrs, "allowedCidrs");
  }
  if (input.externalId !== undefined) {
    patch.externalId = check(ExternalIdSchema.nullable(), input.externalId, "externalId");
  }
  if (input.meta !== undefined) patch.meta = check(MetaSchema.nullable(), input.meta, "meta");
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const { record, hash } = await db.$transaction(async (tx) => {
    // A new expiry can make an expired key active again, which takes a slot under the plan's
    // maximum: then the organization is locked first, as for a create.
    if (patch.expiresAt !== undefined)
      await organizationRepository.lockForUpdate(tx, organizationId);
    await apiKeyRepository.lockForUpdate(tx, organizationId, keyId);
    const key = visible(await apiKeyRepository.getById(tx, organizationId, keyId), visibility);
    if (!key) throw notFound("key");
    if (key.status === "REVOKED") {
      throw new KeywardError("CONFLICT", "A revoked key cannot be changed.");
    }
    if (key.rotatedToId && patch.expiresAt !== undefined) {
      throw new KeywardError(
        "CONFLICT",
        "This key was rotated; its expiry is the end of its grace period and cannot change.",
      );
    }
    const org = await organizationRepository.getById(tx, organizationId);
    if (!org) throw notFound("key");
    const { ceiling, caller } = await ceilingOf(tx, actor, org, now);
    // A key never changes its own scopes, expiry or limit (its name it may).
    if (caller?.id === key.id) {
      patch = checkSelfUpdate(rightsOf(caller), patch);
      // Nor its own credits or spend cap: a key could otherwise refill itself.
      const field = Object.keys(budget).find((f) => f !== "creditsRefillAmount");
      if (field) {
        const name = field === "spendLimitUsd" ? "spendLimitUsd" : "credits";
        throw privilegeCeiling(
          name,
          `A key cannot change its own ${name === "credits" ? "credits" : "spend limit"}; use another key with keys:write, or the dashboard.`,
        );
      }
      // Nor its own allowlist: a key used from elsewhere could otherwise lift its own fence.
      if (
        patch.allowedCidrs !== undefined &&
        JSON.stringify(patch.allowedCidrs) !== JSON.stringify(key.allowedCidrs)
      ) {
        throw privilegeCeiling(
          "allowedCidrs",
          "A key cannot change its own allowed networks; use another key with keys:write, or the dashboard.",
        );
      }
    }
    if (ceiling) {
      const { scopes, expiresAt, rateLimitPerMinute, allowedCidrs } = changedOnly(
        rightsOf(key),
        patch,
      );
      applyCeiling(ceiling, { scopes, expiresAt, rateLimitPerMinute, allowedCidrs }, "update");
    }
    // A new expiry is held to the policy's lifetime counted from the key's creation (the other
    // rules are about making keys: create and rotate).
    if (patch.expiresAt !== undefined) {
      checkKeyPolicy(
        { ...policyOf(org), liveKeysAdminsOnly: false },
        { environment: "test", expiresAt: patch.expiresAt, from: key.createdAt, byAdmin: true },
        "update",
      );
    }
    if (patch.expiresAt !== undefined && effectiveStatus(key, now) === "expired") {
      await assertKeySlot(tx, org, now, "revoke a key before giving this one a new expiry.");
    }
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const before: Record<string, unknown> = {
      name: key.name,
      scopes: key.scopes,
      expiresAt: iso(key.expiresAt),
      rateLimitPerMinute: key.rateLimitPerMinute,
      allowedCidrs: key.allowedCidrs,
      externalId: key.externalId,
      meta: key.meta,
    };
    for (const [field, value] of Object.entries(patch)) {
      const to = value instanceof Date ? value.toISOString() : value;
      if (JSON.stringify(before[field]) !== JSON.stringify(to)) {
        changes[field] = { from: before[field], to };
      }
    }
    const budgetBefore = budgetAudit({
      creditsRemaining: key.creditsRemaining,
      creditsRefillAmount: key.creditsRefillAmount,
      creditsRefillInterval: key.creditsRefillInterval,
      spendLimitUsd: key.spendLimitUsd === null ? null : money(key.spendLimitUsd),
    });
    const budgetAfter = budgetAudit({
      ...budget,
      ...(budget.spendLimitUsd ? { spendLimitUsd: money(budget.spendLimitUsd) } : {}),
    });
    for (const [field, to] of Object.entries(budgetAfter)) {
      // credits is always recorded when given: its remaining sets the live balance.
      if (field === "credits" || JSON.stringify(budgetBefore[field]) !== JSON.stringify(to)) {
        changes[field] = { from: budgetBefore[field], to };
      }
    }
    if (Object.keys(changes).length === 0) return { record: key, hash: key.keyHash };
    const updated = await apiKeyRepository.update(tx, organizationId, keyId, {
      name: patch.name,
      scopes: patch.scopes,
      expiresAt: patch.expiresAt,
      rateLimitPerMinute: patch.rateLimitPerMinute,
      budget,
      allowedCidrs: patch.allowedCidrs,
      externalId: patch.externalId,
      meta: patch.meta,
      // An expired row whose expiry moved to the future is active again.
      ...(key.status === "EXPIRED" && patch.expiresAt !== undefined ? { status: "ACTIVE" } : {}),
    });
    if (!updated) throw notFound("key");
    await writeAudit(tx, actor, {
      organizationId,
      action: "key.updated",
      target: { type: "api_key", id: keyId },
      metadata: { changes },
    });
    await emitWebhookEvent(tx, organizationId, "key.updated", {
      key: toKeyView(updated, now),
      changes,
    });
    return { record: updated, hash: key.keyHash };
  });
  getKeyCache().invalidate(hash);
  await applyCreditsChange(record, input);
  const [view] = await withLiveCredits([toKeyView(record, now)]);
  return view as KeyView;
}
