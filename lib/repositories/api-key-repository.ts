// Data access for API keys. Every read a caller can reach is scoped by organization id; only
// `findById` and `getByHash` are not (internal use and the verification path).
import { Prisma, type Tx } from "@/lib/db";
import type {
  ApiKey,
  CreditRefillInterval,
  Environment,
  KeyStatus,
  Organization,
} from "@/lib/db/generated/client";
import { isValidHash } from "@/lib/keys/hash";
import {
  afterCursor,
  newestFirst,
  orNull,
  type Page,
  type PageOptions,
  pageSize,
  scopeId,
  toPage,
} from "./shared";

export type { Environment, KeyStatus };

/** A key as the rest of Keyward sees it: scopes as strings, the request count as a number. */
export type ApiKeyRecord = Omit<ApiKey, "requestCount" | "scopes" | "metadata" | "meta"> & {
  requestCount: number;
  scopes: string[];
  metadata: Record<string, unknown> | null;
  /** The team's own JSON object (`metadata` is Keyward's bookkeeping). */
  meta: Record<string, unknown> | null;
};

export type ApiKeyWithOrganization = ApiKeyRecord & { organization: Organization };

export interface CreateApiKeyInput {
  organizationId: string;
  name: string;
  /** SHA-256 hex of the key (from lib/keys). A plaintext key is refused. */
  keyHash: string;
  prefix: string;
  hint: string;
  environment: Environment;
  scopes?: string[];
  expiresAt?: Date | null;
  rateLimitPerMinute?: number | null;
  createdBy?: string | null;
  metadata?: Record<string, unknown> | null;
  budget?: KeyBudgetColumns;
  /** True when the key's token carries the checksum (every key lib/keys generates now). */
  checksummed?: boolean;
  allowedCidrs?: string[];
  externalId?: string | null;
  meta?: Record<string, unknown> | null;
}

/** Credits (starting balance and refill) and the spend cap, as their columns hold them. */
export interface KeyBudgetColumns {
  creditsRemaining?: number | null;
  creditsRefillAmount?: number | null;
  creditsRefillInterval?: CreditRefillInterval | null;
  /** Decimal string. */
  spendLimitUsd?: string | null;
}

/** What a leak report records on a key, once (the first report stands). */
export interface LeakReportInput {
  at: Date;
  source: string | null;
  url: string | null;
}

export interface UpdateApiKeyInput {
  name?: string;
  scopes?: string[];
  expiresAt?: Date | null;
  rateLimitPerMinute?: number | null;
  metadata?: Record<string, unknown> | null;
  allowedCidrs?: string[];
  externalId?: string | null;
  meta?: Record<string, unknown> | null;
  status?: KeyStatus;
  rotatedToId?: string | null;
  budget?: KeyBudgetColumns;
}

export interface ListApiKeysOptions extends PageOptions {
  environment?: Environment;
  /** The effective status: an ACTIVE key past its expiry is EXPIRED. */
  status?: KeyStatus;
  /** When the effective status is judged (default: now). */
  now?: Date;
  /** Case-insensitive substring of the name. */
  search?: string;
  /** Exactly this `externalId`. */
  externalId?: string;
}

const jsonObject = (value: Prisma.JsonValue | null): Record<string, unknown> | null =>
  value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;

export function toApiKeyRecord<T extends ApiKey>(
  key: T,
): Omit<T, "requestCount" | "scopes" | "metadata" | "meta"> & ApiKeyRecord {
  return {
    ...key,
    requestCount: Number(key.requestCount),
    scopes: Array.isArray(key.scopes) ? key.scopes.filter((s) => typeof s === "string") : [],
    metadata: jsonObject(key.metadata),
    meta: jsonObject(key.meta),
  };
}

const json = (value: Record<string, unknown> | null | undefined) =>
  value === undefined
    ? undefined
    : value === null
      ? Prisma.DbNull
      : (value as Prisma.InputJsonObject);

const DAY_MS = 86_400_000;

/**
 * Rows whose effective status is `status`: an ACTIVE row past its expiry is EXPIRED (the SQL form
 * of `effectiveStatus` in lib/keys/status.ts).
 */
export function effectiveStatusWhere(status: KeyStatus, now: Date): Prisma.ApiKeyWhereInput {
  if (status === "REVOKED") return { status: "REVOKED" };
  if (status === "ACTIVE") {
    return { status: "ACTIVE", OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
  }
  return { OR: [{ status: "EXPIRED" }, { status: "ACTIVE", expiresAt: { lte: now } }] };
}
const empty = <T>(): Page<T> => ({ items: [], nextCursor: null });

async function listWhere(
  db: Tx,
  where: Prisma.ApiKeyWhereInput,
  options: PageOptions,
): Promise<Page<ApiKeyRecord>> {
  const size = pageSize(options.limit);
  const rows = await db.apiKey.findMany({
    where: { AND: [where, afterCursor(options.cursor)] },
    orderBy: newestFirst,
    take: size + 1,
  });
  return toPage(rows, size, toApiKeyRecord);
}

/** The organization's active keys that also match `where`, newest first. */
function listActive(
  db: Tx,
  organizationId: string,
  where: Prisma.ApiKeyWhereInput,
  options: PageOptions,
): Promise<Page<ApiKeyRecord>> {
  if (!scopeId(organizationId, "organizationId")) return Promise.resolve(empty());
  return listWhere(db, { organizationId, status: "ACTIVE", ...where }, options);
}

export const apiKeyRepository = {
  /** The organization's key, or null: another organization's key looks exactly like a missing one. */
  async getById(db: Tx, organizationId: string, id: string): Promise<ApiKeyRecord | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "keyId")) return null;
    const key = await db.apiKey.findFirst({ where: { id, organizationId } });
    return key ? toApiKeyRecord(key) : null;
  },

  /**
   * Locks the organization's key row until the transaction ends; false when there is no such row. NO KEY UPDATE,
   * not UPDATE: it serializes every create, rotation and revival of one organization (two NO KEY
   * UPDATE locks conflict), but not the foreign-key checks (KEY SHARE) of the usage recorder's
   * inserts, which would otherwise wait on, or deadlock with, a rotation. Always lock the
   * organization before any of its keys, so two transactions never wait on each other in a circle.
   */
  async lockForUpdate(tx: Tx, organizationId: string, id: string): Promise<boolean> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "keyId")) return false;
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "ApiKey"
      WHERE id = ${id}::uuid AND "organizationId" = ${organizationId}::uuid
      FOR NO KEY UPDATE`;
    return rows.length > 0;
  },

  /** Unscoped, for internal jobs only. Never answer a caller's request with it. */
  async findById(db: Tx, id: string): Promise<ApiKeyRecord | null> {
    if (!scopeId(id, "keyId")) return null;
    const key = await db.apiKey.findUnique({ where: { id } });
    return key ? toApiKeyRecord(key) : null;
  },

  /** The verification lookup: by hash, with the organization in the same query. */
  async getByHash(db: Tx, keyHash: string): Promise<ApiKeyWithOrganization | null> {
    if (!isValidHash(keyHash)) return null;
    const key = await db.apiKey.findUnique({ where: { keyHash }, include: { organization: true } });
    return key ? toApiKeyRecord(key) : null;
  },

  /**
   * Newest first (createdAt desc, id desc), filtered in the query; the status filter is the
   * effective status, so the read writes nothing (no marking of expired rows first).
   */
  async listByOrganization(
    db: Tx,
    organizationId: string,
    options: ListApiKeysOptions = {},
  ): Promise<Page<ApiKeyRecord>> {
    if (!scopeId(organizationId, "organizationId")) return empty();
    const search = options.search?.trim();
    return listWhere(
      db,
      {
        organizationId,
        ...(options.environment ? { environment: options.environment } : {}),
        ...(options.status ? effectiveStatusWhere(options.status, options.now ?? new Date()) : {}),
        ...(search ? { name: { contains: search, mode: "insensitive" as const } } : {}),
        ...(options.externalId !== undefined ? { externalId: options.externalId } : {}),
      },
      options,
    );
  },

  async create(db: Tx, input: CreateApiKeyInput): Promise<ApiKeyRecord> {
    scopeId(input.organizationId, "organizationId");
    if (!isValidHash(input.keyHash)) {
      // Guards against a plaintext key (or anything else) reaching the table.
      throw new TypeError("keyHash must be a SHA-256 digest: 64 lowercase hex characters");
    }
    const key = await db.apiKey.create({
      data: {
        organizationId: input.organizationId,
        name: input.name,
        keyHash: input.keyHash,
        prefix: input.prefix,
        hint: input.hint,
        environment: input.environment,
        scopes: input.scopes ?? [],
        expiresAt: input.expiresAt ?? null,
        rateLimitPerMinute: input.rateLimitPerMinute ?? null,
        createdBy: input.createdBy ?? null,
        metadata: json(input.metadata ?? null),
        ...input.budget,
        checksummed: input.checksummed ?? false,
        allowedCidrs: input.allowedCidrs ?? [],
        externalId: input.externalId ?? null,
        meta: json(input.meta ?? null),
      },
    });
    return toApiKeyRecord(key);
  },

  /**
   * Active keys with credits or a spend cap, across organizations, for the budget threshold check
   * (a system job, lib/services/budget-alerts.ts): at most `limit`, in id order after `afterId`.
   */
  async listBudgeted(db: Tx, options: { limit: number; afterId?: string }) {
    return db.apiKey.findMany({
      where: {
        status: "ACTIVE",
        OR: [{ creditsRemaining: { not: null } }, { spendLimitUsd: { not: null } }],
        ...(options.afterId ? { id: { gt: options.afterId } } : {}),
      },
      select: {
        id: true,
        organizationId: true,
        name: true,
        creditsRemaining: true,
        creditsRefillAmount: true,
        creditsRefillInterval: true,
        spendLimitUsd: true,
      },
      orderBy: { id: "asc" },
      take: options.limit,
    });
  },

  /** Null when the organization has no such key. */
  async update(
    db: Tx,
    organizationId: string,
    id: string,
    input: UpdateApiKeyInput,
  ): Promise<ApiKeyRecord | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "keyId")) return null;
    const key = await orNull(
      db.apiKey.update({
        where: { id, organizationId },
        data: {
          name: input.name,
          scopes: input.scopes,
          expiresAt: input.expiresAt,
          rateLimitPerMinute: input.rateLimitPerMinute,
          metadata: json(input.metadata),
          allowedCidrs: input.allowedCidrs,
          externalId: input.externalId,
          meta: json(input.meta),
          status: input.status,
          rotatedToId: input.rotatedToId,
          ...input.budget,
        },
      }),
    );
    return key ? toApiKeyRecord(key) : null;
  },

  /**
   * Revokes the organization's key. An already revoked key is returned unchanged (its first
   * revocation stands). Null when the organization has no such key.
   */
  async revoke(
    db: Tx,
    organizationId: string,
    id: string,
    input: { reason?: string | null; revokedBy?: string | null; revokedAt?: Date } = {},
  ): Promise<ApiKeyRecord | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "keyId")) return null;
    await db.apiKey.updateMany({
      where: { id, organizationId, status: { not: "REVOKED" } },
      data: {
        status: "REVOKED",
        revokedAt: input.revokedAt ?? new Date(),
        revokedBy: input.revokedBy ?? null,
        revokedReason: input.reason ?? null,
      },
    });
    return apiKeyRepository.getById(db, organizationId, id);
  },

  /**
   * Records the first leak report on the organization's key; false when the key was already
   * reported (or is not the organization's), so a replayed report changes nothing.
   */
  async markLeaked(
    tx: Tx,
    organizationId: string,
    id: string,
    input: LeakReportInput,
  ): Promise<boolean> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id, "keyId")) return false;
    const r = await tx.apiKey.updateMany({
      where: { id, organizationId, leakedAt: null },
      data: { leakedAt: input.at, leakSource: input.source, leakUrl: input.url },
    });
    return r.count > 0;
  },

  /**
   * Keys issued before tokens carried a checksum that verify can still accept: active and not
   * expired. Unscoped on purpose: it decides whether verify looks up keys whose checksum fails.
   */
  async countLegacyUsable(db: Tx, now: Date = new Date()): Promise<number> {
    return db.apiKey.count({
      where: { checksummed: false, ...effectiveStatusWhere("ACTIVE", now) },
    });
  },

  /** Active keys expiring within `days` from now (not already expired), newest first. */
  async getExpiringSoon(
    db: Tx,
    organizationId: string,
    days: number,
    options: PageOptions & { now?: Date } = {},
  ): Promise<Page<ApiKeyRecord>> {
    const now = options.now ?? new Date();
    return listActive(
      db,
      organizationId,
      { expiresAt: { gt: now, lte: new Date(now.getTime() + days * DAY_MS) } },
      options,
    );
  },

  /** Active keys not used for `days` (never-used keys count from their creation), newest first. */
  async getUnused(
    db: Tx,
    organizationId: string,
    days: number,
    options: PageOptions & { now?: Date } = {},
  ): Promise<Page<ApiKeyRecord>> {
    const cutoff = new Date((options.now ?? new Date()).getTime() - days * DAY_MS);
    return listActive(
      db,
      organizationId,
      { OR: [{ lastUsedAt: { lt: cutoff } }, { lastUsedAt: null, createdAt: { lt: cutoff } }] },
      options,
    );
  },
};
