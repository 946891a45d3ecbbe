// "Requests this month", defined once for the settings bar, GET /api/v1/me and the quota: the
// requests that spent the organization's monthly quota in the current UTC month, as the quota
// counter sees them (what verify spends). When the counter cannot answer, the same count is read
// from the metered rollups (billable requests only), which is what the counter recounts from.
import type { Db } from "@/lib/db";
import { getRateLimiter } from "@/lib/ratelimit";
import { countMeteredRequests, monthOf } from "@/lib/ratelimit/quota";

export async function requestsThisMonth(
  db: Db,
  organization: { id: string; monthlyQuota: number },
  now: Date = new Date(),
): Promise<number> {
  try {
    return (await getRateLimiter().quota.peek(organization.id, organization.monthlyQuota)).used;
  } catch {
    const month = monthOf(now.getTime());
    return countMeteredRequests(db, organization.id, new Date(month.start), new Date(month.end));
  }
}
