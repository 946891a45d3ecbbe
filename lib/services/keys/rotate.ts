// Rotates a key: a successor with the same policy, the source kept for a grace period.
import type { Db } from "@/lib/db";
import { KeywardError, notFound, validationFailed } from "@/lib/errors";
import { generateKey } from "@/lib/keys";
import { type ApiKeyRecord, apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { GRACE_PERIODS, type GracePeriod } from "@/lib/validation/keys";
import { type Actor, actorLabel } from "../actor";
import { writeAudit } from "../audit";
import { getKeyCache } from "../key-cache";
import { applyCeiling } from "../privilege-ceiling";
import { emitWebhookEvent } from "../webhooks/emit";
import type { CreatedKey } from "./create";
import { liveCreditsOf, pinStartingBalance } from "./credits";
import { checkKeyPolicy, isAdminActor, policyOf } from "./policy";
import {
  assertKeySlot,
  ceilingOf,
  effectiveStatus,
  iso,
  isUuid,
  type KeyView,
  toKeyView,
  type Visibility,
  visible,
} from "./shared";

/**
 * When the old key stops working after a rotation: the end of the grace period, but never later
 * than the old key's own expiry (rotation must not extend a key's life).
 */
export function capGracePeriodAtSourceExpiry(
  now: Date,
  gracePeriodSeconds: number,
  sourceExpiresAt: Date | null,
): Date {
  if (!Number.isFinite(gracePeriodSeconds) || gracePeriodSeconds < 0) {
    throw new RangeError("gracePeriodSeconds must be a finite number >= 0");
  }
  const end = new Date(now.getTime() + gracePeriodSeconds * 1000);
  if (sourceExpiresAt && sourceExpiresAt.getTime() < end.getTime()) {
    return new Date(Math.max(sourceExpiresAt.getTime(), now.getTime()));
  }
  return end;
}

export interface RotatedKey extends CreatedKey {
  previousKey: KeyView;
}

export async function rotateKey(
  db: Db,
  organizationId: string,
  keyId: string,
  input: { gracePeriod?: GracePeriod },
  actor: Actor,
  visibility: Visibility = {},
): Promise<RotatedKey> {
  const gracePeriod = input.gracePeriod ?? "24h";
  if (!(gracePeriod in GRACE_PERIODS)) {
    throw validationFailed([
      { path: "gracePeriod", message: `One of ${Object.keys(GRACE_PERIODS).join(", ")}.` },
    ]);
  }
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const now = new Date();
  // The successor starts from the source's live credit balance, read before the transaction (the
  // store may be this same database, and PGlite has one connection).
  const liveBalance = await liveCreditsOf(db, organizationId, keyId);
  const result = await db.$transaction(async (tx) => {
    // The organization first (the key limit), then the source: two rotations of one key must not
    // both mint a successor.
    await organizationRepository.lockForUpdate(tx, organizationId);
    await apiKeyRepository.lockForUpdate(tx, organizationId, keyId);
    const old = visible(await apiKeyRepository.getById(tx, organizationId, keyId), visibility);
    if (!old) throw notFound("key");
    const status = effectiveStatus(old, now);
    if (status !== "active") {
      throw new KeywardError(
        "CONFLICT",
        `Only an active key can be rotated; this one is ${status}.`,
      );
    }
    if (old.rotatedToId) {
      throw new KeywardError(
        "CONFLICT",
        "This key was rotated already; rotate its successor instead.",
        { extra: { rotatedToId: old.rotatedToId } },
      );
    }
    const org = await organizationRepository.getById(tx, organizationId);
    if (!org) throw notFound("key");
    if (!org.isActive) {
      throw new KeywardError(
        "ORG_INACTIVE",
        "The organization is inactive; its keys cannot rotate.",
      );
    }
    // The successor is the source's policy, expiry included: it never outlives its source. A
    // key may rotate only a key it could have made itself.
    const { ceiling } = await ceilingOf(tx, actor, org, now);
    if (ceiling) {
      applyCeiling(
        ceiling,
        {
          environment: old.environment === "TEST" ? "test" : "live",
          scopes: old.scopes,
          expiresAt: old.expiresAt,
          rateLimitPerMinute: old.rateLimitPerMinute,
          allowedCidrs: old.allowedCidrs,
        },
        "create",
      );
    }
    // The successor is a new key: the policy of today holds it, counted from now.
    checkKeyPolicy(
      policyOf(org),
      {
        environment: old.environment === "TEST" ? "test" : "live",
        expiresAt: old.expiresAt,
        from: now,
        byAdmin: await isAdminActor(tx, organizationId, actor),
      },
      "rotate",
    );
    const seconds = GRACE_PERIODS[gracePeriod];
    // With a grace period both keys are active for a while: the successor needs a free slot, or
    // chained rotations would mint unbounded valid keys. Without one, the source is revoked in
    // this same transaction, so the count does not grow and no slot is needed.
    if (seconds > 0) {
      await assertKeySlot(tx, org, now, 'rotate with gracePeriod "none", or revoke a key first.');
    }
    const generated = generateKey(old.environment);
    const created = await apiKeyRepository.create(tx, {
      organizationId,
      name: old.name,
      keyHash: generated.hash,
      prefix: generated.prefix,
      hint: generated.hint,
      environment: old.environment,
      scopes: old.scopes,
      expiresAt: old.expiresAt,
      rateLimitPerMinute: old.rateLimitPerMinute,
      createdBy: actorLabel(actor),
      metadata: { ...(old.metadata ?? {}), rotatedFromId: old.id },
      budget: {
        creditsRemaining:
          old.creditsRemaining === null ? null : (liveBalance ?? old.creditsRemaining),
        creditsRefillAmount: old.creditsRefillAmount,
        creditsRefillInterval: old.creditsRefillInterval,
        spendLimitUsd: old.spendLimitUsd?.toString() ?? null,
      },
      // generateKey's tokens carry the checksum (lib/keys/checksum.ts).
      checksummed: true,
      allowedCidrs: old.allowedCidrs,
      externalId: old.externalId,
      meta: old.meta,
    });
    let previous: ApiKeyRecord | null;
    if (seconds === 0) {
      await apiKeyRepository.update(tx, organizationId, old.id, { rotatedToId: created.id });
      previous = await apiKeyRepository.revoke(tx, organizationId, old.id, {
        reason: "Rotated without a grace period",
        revokedBy: actorLabel(actor),
        revokedAt: now,
      });
    } else {
      previous = await apiKeyRepository.update(tx, organizationId, old.id, {
        expiresAt: capGracePeriodAtSourceExpiry(now, seconds, old.expiresAt),
        rotatedToId: created.id,
      });
    }
    if (!previous) throw notFound("key");
    await writeAudit(tx, actor, {
      organizationId,
      action: "key.rotated",
      target: { type: "api_key", id: old.id },
      metadata: {
        newKeyId: created.id,
        newKeyExpiresAt: iso(created.expiresAt),
        gracePeriod,
        previousKeyExpiresAt: iso(previous.expiresAt),
        prefix: generated.prefix,
        hint: generated.hint,
      },
    });
    await emitWebhookEvent(tx, organizationId, "key.rotated", {
      key: toKeyView(previous, now),
      newKeyId: created.id,
      newKey: toKeyView(created, now),
      gracePeriod,
    });
    return { created, previous, plaintext: generated.key, oldHash: old.keyHash };
  });
  getKeyCache().invalidate(result.oldHash);
  await pinStartingBalance(result.created);
  return {
    key: result.plaintext,
    apiKey: toKeyView(result.created, now),
    previousKey: toKeyView(result.previous, now),
  };
}
