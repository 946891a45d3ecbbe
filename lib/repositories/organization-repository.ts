import type { Tx } from "@/lib/db";
import type { LeakAction, Organization, Plan } from "@/lib/db/generated/client";
import { planDefaults } from "@/lib/plans";
import { effectiveStatusWhere } from "./api-key-repository";
import { normalizeEmail, orNull, scopeId } from "./shared";

export type { LeakAction, Organization };

export interface CreateOrganizationInput {
  name: string;
  email: string;
  /** Derived from the name (and made unique) when not given. */
  slug?: string;
  plan?: Plan;
  /** Each limit defaults to the plan's. */
  rateLimitPerMinute?: number;
  monthlyQuota?: number;
  maxActiveKeys?: number;
  usageRetentionDays?: number;
  isActive?: boolean;
}

export interface UpdateOrganizationInput {
  name?: string;
  email?: string;
  slug?: string;
  /** A plan change resets every limit not given alongside it to the new plan's default. */
  plan?: Plan;
  rateLimitPerMinute?: number;
  monthlyQuota?: number;
  maxActiveKeys?: number;
  usageRetentionDays?: number;
  isActive?: boolean;
  /** Decimal string (USD per calendar month); null: no cap. */
  spendLimitUsd?: string | null;
  /** The key policy (lib/services/keys/policy.ts); null: no lifetime limit. */
  maxKeyLifetimeDays?: number | null;
  keyExpiryRequired?: boolean;
  liveKeysAdminsOnly?: boolean;
}

const SLUG_MAX = 48;

/** `Acme Corp.` -> `acme-corp`; letters with accents lose them; empty becomes `org`. */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, "");
  return slug || "org";
}

/** The first free slug of `base`, `base-2`, `base-3`, ... (one query). */
async function uniqueSlug(db: Tx, base: string): Promise<string> {
  const taken = await db.organization.findMany({
    where: { OR: [{ slug: base }, { slug: { startsWith: `${base}-` } }] },
    select: { slug: true },
  });
  const used = new Set(taken.map((t) => t.slug));
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!used.has(candidate)) return candidate;
  }
}

export const organizationRepository = {
  /** Active organizations with a monthly spend cap, for the budget threshold check. */
  async listWithSpendLimit(db: Tx, limit = 10_000) {
    return db.organization.findMany({
      where: { isActive: true, spendLimitUsd: { not: null } },
      select: { id: true, spendLimitUsd: true },
      orderBy: { id: "asc" },
      take: limit,
    });
  },

  async getById(db: Tx, id: string): Promise<Organization | null> {
    if (!scopeId(id, "organizationId")) return null;
    return db.organization.findUnique({ where: { id } });
  },

  /**
   * Locks the organization's row until the transaction ends; false when there is no such row. NO KEY UPDATE,
   * not UPDATE: it serializes every create, rotation and revival of one organization (two NO KEY
   * UPDATE locks conflict), but not the foreign-key checks (KEY SHARE) of the usage recorder's
   * inserts, which would otherwise wait on, or deadlock with, a rotation. Always lock the
   * organization before any of its keys, so two transactions never wait on each other in a circle.
   */
  async lockForUpdate(tx: Tx, id: string): Promise<boolean> {
    if (!scopeId(id, "organizationId")) return false;
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "Organization" WHERE id = ${id}::uuid FOR NO KEY UPDATE`;
    return rows.length > 0;
  },

  async getBySlug(db: Tx, slug: string): Promise<Organization | null> {
    if (typeof slug !== "string" || slug.length === 0) return null;
    return db.organization.findUnique({ where: { slug } });
  },

  async getByEmail(db: Tx, email: string): Promise<Organization | null> {
    if (typeof email !== "string" || email.length === 0) return null;
    return db.organization.findUnique({ where: { email: normalizeEmail(email) } });
  },

  /**
   * Creates an organization with its plan's limits unless given. A derived slug is made unique;
   * a given slug is used as is (a taken one fails with Prisma's P2002).
   */
  async create(db: Tx, input: CreateOrganizationInput): Promise<Organization> {
    const plan = input.plan ?? "FREE";
    const defaults = planDefaults(plan);
    const slug = input.slug ?? (await uniqueSlug(db, slugify(input.name)));
    return db.organization.create({
      data: {
        name: input.name,
        email: normalizeEmail(input.email),
        slug,
        plan,
        rateLimitPerMinute: input.rateLimitPerMinute ?? defaults.rateLimitPerMinute,
        monthlyQuota: input.monthlyQuota ?? defaults.monthlyQuota,
        maxActiveKeys: input.maxActiveKeys ?? defaults.maxActiveKeys,
        usageRetentionDays: input.usageRetentionDays ?? defaults.usageRetentionDays,
        isActive: input.isActive ?? true,
      },
    });
  },

  /** Null when there is no such organization. */
  async update(db: Tx, id: string, input: UpdateOrganizationInput): Promise<Organization | null> {
    if (!scopeId(id, "organizationId")) return null;
    const planLimits = input.plan ? planDefaults(input.plan) : undefined;
    return orNull(
      db.organization.update({
        where: { id },
        data: {
          name: input.name,
          email: input.email === undefined ? undefined : normalizeEmail(input.email),
          slug: input.slug,
          plan: input.plan,
          isActive: input.isActive,
          rateLimitPerMinute: input.rateLimitPerMinute ?? planLimits?.rateLimitPerMinute,
          monthlyQuota: input.monthlyQuota ?? planLimits?.monthlyQuota,
          maxActiveKeys: input.maxActiveKeys ?? planLimits?.maxActiveKeys,
          usageRetentionDays: input.usageRetentionDays ?? planLimits?.usageRetentionDays,
          spendLimitUsd: input.spendLimitUsd,
          maxKeyLifetimeDays: input.maxKeyLifetimeDays,
          keyExpiryRequired: input.keyExpiryRequired,
          liveKeysAdminsOnly: input.liveKeysAdminsOnly,
        },
      }),
    );
  },

  /** What a leak report of one of the organization's keys does; null when there is no such org. */
  async setLeakAction(db: Tx, id: string, leakAction: LeakAction): Promise<Organization | null> {
    if (!scopeId(id, "organizationId")) return null;
    return orNull(db.organization.update({ where: { id }, data: { leakAction } }));
  },

  async count(db: Tx, options: { isActive?: boolean } = {}): Promise<number> {
    return db.organization.count({
      where: options.isActive === undefined ? {} : { isActive: options.isActive },
    });
  },

  /** Keys that count against the limit: status ACTIVE and not past their expiry. */
  async getApiKeyCount(db: Tx, id: string, now: Date = new Date()): Promise<number> {
    if (!scopeId(id, "organizationId")) return 0;
    return db.apiKey.count({
      where: { organizationId: id, ...effectiveStatusWhere("ACTIVE", now) },
    });
  },
};
