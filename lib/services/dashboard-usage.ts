// The usage page's reads: SQL aggregates over rollups from the usage repository, for one
// organization and range. Nothing here reads raw ApiKeyUsage rows.
import { getDb, type Tx } from "@/lib/db";
import { usageRepository } from "@/lib/repositories/usage-repository";
import type { DateRange } from "./dashboard-range";
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
 * `db` is for tests; pages use the process's database.
 */
export async function getUsageOverview(organizationId: string, range: DateRange, db?: Tx) {
  const conn = db ?? (await getDb());
  // Sequential: on the embedded database the queries share one connection anyway.
  const daily = await usageRepository.getDailyStats(conn, organizationId, range.start, range.end);
  const endpoints = await usageRepository.getEndpointStats(
    conn,
    organizationId,
    range.start,
    range.end,
    { limit: 20 },
  );
  const topKeys = await usageRepository.getTopConsumers(
    conn,
    organizationId,
    range.start,
    range.end,
    10,
  );
  const totals = await usageRepository.getRangeStats(conn, organizationId, range.start, range.end);
  return { daily, endpoints, topKeys, totals };
}

export type UsageOverview = Awaited<ReturnType<typeof getUsageOverview>>;

/** Requests this month, as GET /api/v1/me and the quota count them (requests-this-month.ts). */
export async function getMonthToDateRequests(organization: {
  id: string;
  monthlyQuota: number;
}): Promise<number> {
  return requestsThisMonth(await getDb(), organization);
}
