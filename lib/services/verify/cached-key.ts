// The key as verification caches it: the row and its organization, in plain values.

import { compileAllowlist } from "@/lib/net/cidr";
import { toMicros } from "@/lib/ratelimit/spend";
import type { ApiKeyWithOrganization } from "@/lib/repositories/api-key-repository";
import type { CachedKey } from "../key-cache";
import { creditPlanOf } from "../keys/credits";

export function toCachedKey(row: ApiKeyWithOrganization): CachedKey {
  const o = row.organization;
  return {
    id: row.id,
    organizationId: row.organizationId,
    keyHash: row.keyHash,
    name: row.name,
    prefix: row.prefix,
    hint: row.hint,
    environment: row.environment === "TEST" ? "test" : "live",
    status: row.status.toLowerCase() as CachedKey["status"],
    scopes: [...row.scopes],
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    rateLimitPerMinute: row.rateLimitPerMinute,
    credits: creditPlanOf(row),
    spendLimitMicros: row.spendLimitUsd === null ? null : toMicros(row.spendLimitUsd),
    // Parsed here, once per cache fill, so a verify compares integers instead of parsing CIDRs.
    allowlist: row.allowedCidrs.length > 0 ? compileAllowlist(row.allowedCidrs) : null,
    externalId: row.externalId,
    meta: row.meta,
    organization: {
      id: o.id,
      name: o.name,
      slug: o.slug,
      plan: o.plan,
      isActive: o.isActive,
      rateLimitPerMinute: o.rateLimitPerMinute,
      monthlyQuota: o.monthlyQuota,
      maxActiveKeys: o.maxActiveKeys,
      spendLimitMicros: o.spendLimitUsd === null ? null : toMicros(o.spendLimitUsd),
    },
  };
}

/** The key's effective per-minute limit: its own, else its organization's (plan) limit. */
export function effectiveRateLimit(key: CachedKey): number {
  return key.rateLimitPerMinute ?? key.organization.rateLimitPerMinute;
}
