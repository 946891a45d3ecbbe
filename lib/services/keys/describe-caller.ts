// The calling key (GET /api/v1/me): its scopes, organization, effective limits and this month's
// usage.
import type { Db } from "@/lib/db";
import { getRateLimiter } from "@/lib/ratelimit";
import { usageRepository } from "@/lib/repositories/usage-repository";
import type { CachedKey } from "../key-cache";
import { effectiveRateLimit } from "../verify/cached-key";

export async function describeCaller(db: Db, key: CachedKey, now: Date = new Date()) {
  const o = key.organization;
  // The quota counter's own view (what verify spends), not the metered rows: those lag the
  // recorder's flush by up to a second and include calls that spent no quota.
  let requests: number;
  try {
    requests = (await getRateLimiter().quota.peek(o.id, o.monthlyQuota)).used;
  } catch {
    requests = await usageRepository.getMonthlyUsage(db, key.organizationId, now);
  }
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
