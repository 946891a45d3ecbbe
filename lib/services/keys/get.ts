// Reads one key of the organization.
import type { Db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { withLiveCredits } from "./credits";
import { isUuid, type KeyView, toKeyView, type Visibility, visible } from "./shared";

/** The organization's key; another organization's (or a hidden) key is NOT_FOUND, exactly. */
export async function getKey(
  db: Db,
  organizationId: string,
  keyId: string,
  visibility: Visibility = {},
): Promise<KeyView> {
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const key = visible(await apiKeyRepository.getById(db, organizationId, keyId), visibility);
  if (!key) throw notFound("key");
  const [view] = await withLiveCredits([toKeyView(key)]);
  return view as KeyView;
}
