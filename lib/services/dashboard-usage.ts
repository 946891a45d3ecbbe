// The usage page's reads: SQL aggregates from the usage repository for one organization and range.
import { getDb } from "@/lib/db";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { totalsOf } from "./dashboard-keys";
import type { DateRange } from "./dashboard-range";

export async function getUsageOverview(organizationId: string, range: DateRange) {
  const db = await getDb();
  // Sequential: on the embedded database the queries share one connection anyway.
  const daily = await usageRepository.getDailyStats(db, organizationId, range.start, range.end);
  const endpoints = await usageRepository.getEndpointStats(
    db,
    organizationId,
    range.start,
    range.end,
    {
      limit: 20,
    },
  );
  const topKeys = await usageRepository.getTopConsumers(
    db,
    organizationId,
    range.start,
    range.end,
    10,
  );
  return { daily, endpoints, topKeys, totals: totalsOf(daily) };
}

export type UsageOverview = Awaited<ReturnType<typeof getUsageOverview>>;

export async function getMonthToDateRequests(organizationId: string): Promise<number> {
  return usageRepository.getMonthlyUsage(await getDb(), organizationId);
}
