// What the dashboard's key pages read and change, through the key service. The plaintext of a
// created or rotated key is in the return value only; nothing here logs or stores it.
import { getDb } from "@/lib/db";
import { usageRepository } from "@/lib/repositories/usage-repository";
import type { Actor } from "./actor";
import {
  createKey,
  getKey,
  type KeyView,
  type ListKeysOptions,
  listKeys,
  revokeKey,
  rotateKey,
} from "./api-key-service";
import type { DateRange } from "./dashboard-range";

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
  input: { name: string; environment: "live" | "test"; scopes: string[]; expiresAt: Date | null },
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

export interface KeyUsageStatistics {
  requests: number;
  errors: number;
  errorRate: number;
  /** Request-weighted mean of the daily percentiles (the repository has no whole-range one). */
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  tokens: number;
  costUsd: string;
}

function sumMoney(values: string[]): string {
  // Six decimals as integer micro-dollars: exact, no float drift.
  let micros = 0n;
  for (const v of values) {
    const [whole = "0", frac = ""] = v.split(".");
    const sign = whole.startsWith("-") ? -1n : 1n;
    const w = BigInt(whole.replace("-", "") || "0");
    const f = BigInt(`${frac}000000`.slice(0, 6));
    micros += sign * (w * 1_000_000n + f);
  }
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  return `${neg ? "-" : ""}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, "0")}`;
}

export { sumMoney };

/** One key's usage in a range: daily series, endpoints and totals, from SQL aggregates. */
export async function getKeyUsage(organizationId: string, keyId: string, range: DateRange) {
  const db = await getDb();
  const daily = await usageRepository.getDailyStats(db, organizationId, range.start, range.end, {
    keyId,
  });
  const endpoints = await usageRepository.getEndpointStats(
    db,
    organizationId,
    range.start,
    range.end,
    { keyId, limit: 20 },
  );
  return { daily, endpoints, totals: totalsOf(daily) };
}

export function totalsOf(
  daily: Array<{
    requests: number;
    errors: number;
    tokens: number;
    costUsd: string;
    p50LatencyMs: number | null;
    p95LatencyMs: number | null;
  }>,
): KeyUsageStatistics {
  let requests = 0;
  let errors = 0;
  let tokens = 0;
  let w50 = 0;
  let w95 = 0;
  let weighted = 0;
  for (const d of daily) {
    requests += d.requests;
    errors += d.errors;
    tokens += d.tokens;
    if (d.requests > 0 && d.p50LatencyMs !== null && d.p95LatencyMs !== null) {
      w50 += d.p50LatencyMs * d.requests;
      w95 += d.p95LatencyMs * d.requests;
      weighted += d.requests;
    }
  }
  return {
    requests,
    errors,
    errorRate: requests ? errors / requests : 0,
    p50LatencyMs: weighted ? w50 / weighted : null,
    p95LatencyMs: weighted ? w95 / weighted : null,
    tokens,
    costUsd: sumMoney(daily.map((d) => d.costUsd)),
  };
}
