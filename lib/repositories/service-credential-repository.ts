// Service credentials (prisma ServiceCredential): the only code that queries them. Lists are
// instance-wide on purpose: service credentials belong to the operator, not to an organization.
import type { Tx } from "@/lib/db";
import type { ServiceCredential } from "@/lib/db/generated/client";
import { isValidHash } from "@/lib/keys/hash";
import {
  afterCursor,
  isUuid,
  newestFirst,
  type Page,
  type PageOptions,
  pageSize,
  toPage,
} from "./shared";

export type { ServiceCredential };

export type ServiceCredentialWithOrganization = ServiceCredential & {
  organization: { id: string; slug: string } | null;
};

export interface CreateServiceCredentialInput {
  name: string;
  secretHash: string;
  prefix: string;
  hint: string;
  scopes: string[];
  organizationId: string | null;
  createdBy: string | null;
}

/** What usage reporting needs of a key named by id: its organization and whether it is usable. */
export interface ReportedKey {
  id: string;
  organizationId: string;
  status: "ACTIVE" | "REVOKED" | "EXPIRED";
  expiresAt: Date | null;
}

const withOrganization = { organization: { select: { id: true, slug: true } } } as const;

export const serviceCredentialRepository = {
  async create(
    db: Tx,
    input: CreateServiceCredentialInput,
  ): Promise<ServiceCredentialWithOrganization> {
    if (!isValidHash(input.secretHash)) throw new TypeError("secretHash must be a SHA-256 hex");
    return db.serviceCredential.create({ data: input, include: withOrganization });
  },

  async getByHash(db: Tx, secretHash: string): Promise<ServiceCredential | null> {
    if (!isValidHash(secretHash)) return null;
    return db.serviceCredential.findUnique({ where: { secretHash } });
  },

  async getById(db: Tx, id: string): Promise<ServiceCredentialWithOrganization | null> {
    if (!isUuid(id)) return null;
    return db.serviceCredential.findUnique({ where: { id }, include: withOrganization });
  },

  /** Newest first (createdAt desc, id desc). */
  async list(db: Tx, options: PageOptions = {}): Promise<Page<ServiceCredentialWithOrganization>> {
    const size = pageSize(options.limit);
    const rows = await db.serviceCredential.findMany({
      where: afterCursor(options.cursor),
      orderBy: newestFirst,
      take: size + 1,
      include: withOrganization,
    });
    return toPage(rows, size);
  },

  /** Marks it revoked; false when it does not exist or was revoked already. */
  async revoke(db: Tx, id: string, revokedBy: string, at: Date = new Date()): Promise<boolean> {
    if (!isUuid(id)) return false;
    const r = await db.serviceCredential.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: at, revokedBy },
    });
    return r.count === 1;
  },

  async touchLastUsed(db: Tx, id: string, at: Date = new Date()): Promise<void> {
    await db.serviceCredential.updateMany({ where: { id }, data: { lastUsedAt: at } });
  },

  /**
   * The keys among `ids` that exist (of `organizationId` when given), in one query; the others
   * are absent from the answer. Ids that are not uuids are skipped.
   */
  async findReportedKeys(
    db: Tx,
    ids: readonly string[],
    organizationId: string | null,
  ): Promise<ReportedKey[]> {
    const valid = [...new Set(ids)].filter(isUuid);
    if (valid.length === 0) return [];
    return db.apiKey.findMany({
      where: { id: { in: valid }, ...(organizationId ? { organizationId } : {}) },
      select: { id: true, organizationId: true, status: true, expiresAt: true },
    });
  },
};
