// Lists the organization's keys, newest first, filtered in the query.
import type { Db } from "@/lib/db";
import { toDbEnvironment } from "@/lib/keys";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import type { Page } from "@/lib/repositories/shared";
import { withLiveCredits } from "./credits";
import {
  type EnvironmentInput,
  environmentOf,
  isUuid,
  type KeyView,
  toKeyView,
  type Visibility,
} from "./shared";

export interface ListKeysOptions {
  environment?: EnvironmentInput;
  status?: "active" | "revoked" | "expired";
  search?: string;
  externalId?: string;
  /** Active keys expiring within, or unused for, `attentionDays` (the other filters then do not apply). */
  attention?: "expiring" | "unused";
  attentionDays?: number;
  limit?: number;
  cursor?: string | null;
}

export async function listKeys(
  db: Db,
  organizationId: string,
  options: ListKeysOptions = {},
  visibility: Visibility = {},
): Promise<Page<KeyView>> {
  if (!isUuid(organizationId)) return { items: [], nextCursor: null };
  let environment = options.environment ? environmentOf(options.environment) : undefined;
  if (visibility.environment) {
    if (environment && environment !== visibility.environment)
      return { items: [], nextCursor: null };
    environment = visibility.environment;
  }
  const now = new Date();
  if (options.attention) {
    const read =
      options.attention === "expiring"
        ? apiKeyRepository.getExpiringSoon
        : apiKeyRepository.getUnused;
    const found = await read(db, organizationId, options.attentionDays ?? 30, {
      now,
      limit: options.limit,
      cursor: options.cursor,
    });
    const items = visibility.environment
      ? found.items.filter((k) => k.environment === toDbEnvironment(visibility.environment!))
      : found.items;
    return { items: items.map((k) => toKeyView(k, now)), nextCursor: found.nextCursor };
  }
  const page = await apiKeyRepository.listByOrganization(db, organizationId, {
    environment: environment ? toDbEnvironment(environment) : undefined,
    status: options.status
      ? (options.status.toUpperCase() as "ACTIVE" | "REVOKED" | "EXPIRED")
      : undefined,
    search: options.search,
    externalId: options.externalId,
    now,
    limit: options.limit,
    cursor: options.cursor,
  });
  const items = await withLiveCredits(page.items.map((k) => toKeyView(k, now)));
  return { items, nextCursor: page.nextCursor };
}
