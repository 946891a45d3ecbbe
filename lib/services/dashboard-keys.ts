// What the dashboard's key pages read and change, through the key service. The plaintext of a
// created or rotated key is in the return value only; nothing here logs or stores it.
import { getDb, type Tx } from "@/lib/db";
import { usageRepository } from "@/lib/repositories/usage-repository";
import type { Actor } from "./actor";
import type { DateRange } from "./dashboard-range";
import {
  createKey,
  getKey,
  type KeyView,
  type ListKeysOptions,
  listKeys,
  revokeKey,
  rotateKey,
  type UpdateKeyInput,
  updateKey,
} from "./keys";

export type { KeyView };
export type DashboardKeyFilters = Pick<
  ListKeysOptions,
  "environment" | "status" | "search" | "cursor"
>;

export const KEYS_PAGE_SIZE = 20;

export async function listOrganizationKeys(organizationId: string, filters: DashboardKeyFilters) {
  return listKeys(await getDb(), organizationId, { ...filters, limit: KEYS_PAGE_SIZE });
}

/** The organization's key, or null (another organization's key is null too). */
export async function findOrganizationKey(organizationId: string, keyId: string) {
  try {
    return await getKey(await getDb(), organizationId, keyId);
  } catch (e) {
    if ((e as { code?: string }).code === "NOT_FOUND") return null;
    throw e;
  }
}

export async function createKeyFromDashboard(
  organizationId: string,
  input: {
    name: string;
    environment: "live" | "test";
    scopes: string[];
    expiresAt: Date | null;
    /** null: the plan's; never above it (the key service refuses, naming the field). */
    rateLimitPerMinute: number | null;
  },
  actor: Actor,
) {
  return createKey(await getDb(), { organizationId, ...input }, actor);
}

export async function revokeKeyFromDashboard(
  organizationId: string,
  keyId: string,
  reason: string,
  actor: Actor,
) {
  return revokeKey(await getDb(), organizationId, keyId, { reason }, actor);
}

export async function rotateKeyFromDashboard(
  organizationId: string,
  keyId: string,
  gracePeriod: "none" | "1h" | "24h" | "7d",
  actor: Actor,
) {
  return rotateKey(await getDb(), organizationId, keyId, { gracePeriod }, actor);
}

/** Name, scopes, expiry, rate limit; the service refuses revoked keys and writes `key.updated`. */
export async function updateKeyFromDashboard(
  organizationId: string,
  keyId: string,
  input: UpdateKeyInput,
  actor: Actor,
) {
  return updateKey(await getDb(), organizationId, keyId, input, actor);
}

/**
 * One key's usage in a range: daily series, endpoints and range totals, all read from rollups.
 * The totals' p50 / p95 come from the range's merged latency histogram (see getRangeStats).
 * `db` is for tests; pages use the process's database.
 */
export async function getKeyUsage(
  organizationId: string,
  keyId: string,
  range: DateRange,
  db?: Tx,
) {
  const conn = db ?? (await getDb());
  // Sequential: on the embedded database the queries share one connection anyway.
  const daily = await usageRepository.getDailyStats(conn, organizationId, range.start, range.end, {
    keyId,
  });
  const endpoints = await usageRepository.getEndpointStats(
    conn,
    organizationId,
    range.start,
    range.end,
    { keyId, limit: 20 },
  );
  const totals = await usageRepository.getRangeStats(conn, organizationId, range.start, range.end, {
    keyId,
  });
  return { daily, endpoints, totals };
}
