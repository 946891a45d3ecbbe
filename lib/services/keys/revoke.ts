// Revokes a key: at once and for good; a second revocation changes nothing.
import type { Db, Tx } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { type ApiKeyRecord, apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { type Actor, actorLabel } from "../actor";
import { writeAudit } from "../audit";
import { getKeyCache } from "../key-cache";
import { emitWebhookEvent } from "../webhooks/emit";
import { isUuid, type KeyView, toKeyView, type Visibility, visible } from "./shared";

export async function revokeKey(
  db: Db,
  organizationId: string,
  keyId: string,
  input: { reason?: string | null },
  actor: Actor,
  visibility: Visibility = {},
): Promise<KeyView> {
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const { record, hash } = await db.$transaction((tx) =>
    revokeKeyInTransaction(tx, organizationId, keyId, input, actor, visibility),
  );
  getKeyCache().invalidate(hash);
  return toKeyView(record);
}

/**
 * The revocation inside the caller's transaction (a leak report revokes, records the leak and
 * sends its event in one). The caller drops `hash` from the key cache after the commit.
 */
export async function revokeKeyInTransaction(
  tx: Tx,
  organizationId: string,
  keyId: string,
  input: { reason?: string | null },
  actor: Actor,
  visibility: Visibility = {},
): Promise<{ record: ApiKeyRecord; hash: string }> {
  const reason = input.reason?.trim().slice(0, 500) || null;
  await apiKeyRepository.lockForUpdate(tx, organizationId, keyId);
  const key = visible(await apiKeyRepository.getById(tx, organizationId, keyId), visibility);
  if (!key) throw notFound("key");
  if (key.status === "REVOKED") return { record: key, hash: key.keyHash };
  const revoked = await apiKeyRepository.revoke(tx, organizationId, keyId, {
    reason,
    revokedBy: actorLabel(actor),
  });
  if (!revoked) throw notFound("key");
  await writeAudit(tx, actor, {
    organizationId,
    action: "key.revoked",
    target: { type: "api_key", id: keyId },
    metadata: { reason, prefix: key.prefix, hint: key.hint },
  });
  await emitWebhookEvent(tx, organizationId, "key.revoked", { key: toKeyView(revoked), reason });
  return { record: revoked, hash: key.keyHash };
}

/** For operators (CLI): revoke by id alone, optionally checking the organization's slug. */
export async function revokeKeyById(
  db: Db,
  input: { keyId: string; orgSlug?: string; reason?: string | null },
  actor: Actor,
): Promise<KeyView> {
  if (!isUuid(input.keyId)) throw notFound("key");
  const key = await apiKeyRepository.findById(db, input.keyId);
  if (!key) throw notFound("key");
  if (input.orgSlug !== undefined) {
    const org = await organizationRepository.getBySlug(db, input.orgSlug);
    if (!org || org.id !== key.organizationId) throw notFound("key");
  }
  return revokeKey(db, key.organizationId, key.id, { reason: input.reason }, actor);
}
