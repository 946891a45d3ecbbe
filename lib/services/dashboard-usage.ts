// The usage reads of the dashboard's pages: SQL aggregates over rollups from the usage
// repository, for one organization (or one of its keys) and range. Nothing here reads raw
// ApiKeyUsage rows.
import type { Db, Tx } from "@/lib/db";
import { usageRepository } from "@/lib/repositories/usage-repository";
import type { DateRange } from "@/lib/url-state/date-range";
import { requestsThisMonth } from "./requests-this-month";

export type {
  DailyStat,
  EndpointStat,
  RangeStats,
  TopConsumer,
} from "@/lib/repositories/usage-repository";

/**
 * Daily series, endpoint and top-key tables, and range totals. The totals' p50 / p95 come from
 * the range's merged latency histogram (getRangeStats), not from the daily percentiles.
 */
export async function getUsageOverview(db: Tx, organizationId: string, range: DateRange) {
  // Sequential: on the embedded database the queries share one connection anyway.
  const daily = await usageRepository.getDailyStats(db, organizationId, range.start, range.end);
  const endpoints = await usageRepository.getEndpointStats(
    db,
    organizationId,
    range.start,
    range.end,
    { limit: 20 },
  );
  const topKeys = await usageRepository.getTopConsumers(
    db,
    organizationId,
    range.start,
    range.end,
    10,
  );
  const totals = await usageRepository.getRangeStats(db, organizationId, range.start, range.end);
  return { daily, endpoints, topKeys, totals };
}

/** One key's usage in a range: daily series, endpoints and range totals, as above. */
export async function getKeyUsage(db: Tx, organizationId: string, keyId: string, range: DateRange) {
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
  const totals = await usageRepository.getRangeStats(db, organizationId, range.start, range.end, {
    keyId,
  });
  return { daily, endpoints, totals };
}

/** Requests this month, as GET /api/v1/me and the quota count them (requests-this-month.ts). */
export async function getMonthToDateRequests(
  db: Db,
  organization: { id: string; monthlyQuota: number },
): Promise<number> {
  return requestsThisMonth(db, organization);
}
