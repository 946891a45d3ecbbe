// The calling key (GET /api/v1/me): its scopes, organization, effective limits and this month's
// usage.
import type { Db } from "@/lib/db";
import type { CachedKey } from "../key-cache";
import { requestsThisMonth } from "../requests-this-month";
import { effectiveRateLimit } from "../verify/cached-key";

export async function describeCaller(db: Db, key: CachedKey, now: Date = new Date()) {
  const o = key.organization;
  const requests = await requestsThisMonth(db, o, now);
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    hint: key.hint,
    environment: key.environment,
    scopes: [...key.scopes],
    expiresAt: key.expiresAt ? new Date(key.expiresAt).toISOString() : null,
    organization: { id: o.id, name: o.name, slug: o.slug, plan: o.plan },
    limits: {
      rateLimitPerMinute: effectiveRateLimit(key),
      monthlyQuota: o.monthlyQuota,
      maxActiveKeys: o.maxActiveKeys,
    },
    usage: {
      month: now.toISOString().slice(0, 7),
      requests,
      quotaRemaining: Math.max(0, o.monthlyQuota - requests),
    },
  };
}
