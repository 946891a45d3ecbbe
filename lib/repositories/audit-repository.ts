import { Prisma, type Tx } from "@/lib/db";
import type { AuditLog } from "@/lib/db/generated/client";
import {
  afterCursor,
  isUuid,
  newestFirst,
  type Page,
  type PageOptions,
  pageSize,
  scopeId,
  toPage,
} from "./shared";

export type { AuditLog };

export type AuditActorType = "user" | "key" | "cli" | "system";

/** Every action an audit row records: the one list the writers and the audit page share. */
export const AUDIT_ACTIONS = [
  "key.created",
  "key.revoked",
  "key.rotated",
  "key.updated",
  "key.leaked",
  "org.created",
  "org.updated",
  "member.added",
  "member.role_changed",
  "member.removed",
  "invitation.created",
  "invitation.resent",
  "invitation.revoked",
  "invitation.accepted",
  "invitation.declined",
  "service_credential.created",
  "service_credential.revoked",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "webhook.secret_rotated",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an audit row is about. */
export type AuditTargetType =
  | "api_key"
  | "organization"
  | "user"
  | "invitation"
  | "service_credential"
  | "webhook_endpoint";

export interface CreateAuditInput {
  organizationId: string;
  actorType: AuditActorType;
  actorId?: string | null;
  action: AuditAction;
  targetType?: AuditTargetType | null;
  targetId?: string | null;
  /** Never a secret: no plaintext keys, no password hashes. */
  metadata?: Record<string, unknown> | null;
  ipAddress?: string | null;
}

export interface ListAuditOptions extends PageOptions {
  /** One action, or several. */
  action?: string | string[];
  targetId?: string;
  actorId?: string;
}

/** Who and what audit entries name: user emails and the organization's key labels, by id. */
export interface AuditNames {
  users: Map<string, string>;
  keys: Map<string, { name: string; prefix: string; hint: string }>;
}

export const auditRepository = {
  /** Call inside the transaction that makes the change it records. */
  async create(db: Tx, input: CreateAuditInput): Promise<AuditLog> {
    scopeId(input.organizationId, "organizationId");
    return db.auditLog.create({
      data: {
        organizationId: input.organizationId,
        actorType: input.actorType,
        actorId: input.actorId ?? null,
        action: input.action,
        targetType: input.targetType ?? null,
        targetId: input.targetId ?? null,
        metadata:
          input.metadata == null ? Prisma.DbNull : (input.metadata as Prisma.InputJsonObject),
        ipAddress: input.ipAddress ?? null,
      },
    });
  },

  /** The organization's entries, newest first. */
  async listByOrganization(
    db: Tx,
    organizationId: string,
    options: ListAuditOptions = {},
  ): Promise<Page<AuditLog>> {
    if (!scopeId(organizationId, "organizationId")) return { items: [], nextCursor: null };
    const size = pageSize(options.limit);
    const action =
      options.action === undefined
        ? {}
        : Array.isArray(options.action)
          ? { action: { in: options.action } }
          : { action: options.action };
    const rows = await db.auditLog.findMany({
      where: {
        AND: [
          {
            organizationId,
            ...action,
            ...(options.targetId !== undefined ? { targetId: options.targetId } : {}),
            ...(options.actorId !== undefined ? { actorId: options.actorId } : {}),
          },
          afterCursor(options.cursor),
        ],
      },
      orderBy: newestFirst,
      take: size + 1,
    });
    return toPage(rows, size);
  },

  /**
   * The names behind a page of entries, in one query: users by id (any user: a removed member
   * still shows), keys by id within the organization only. Ids that are not UUIDs name nothing.
   */
  async names(
    db: Tx,
    organizationId: string,
    ids: { userIds: Iterable<string>; keyIds: Iterable<string> },
  ): Promise<AuditNames> {
    const users = [...new Set(ids.userIds)].filter(isUuid);
    const keys = [...new Set(ids.keyIds)].filter(isUuid);
    const names: AuditNames = { users: new Map(), keys: new Map() };
    if (!scopeId(organizationId, "organizationId") || users.length + keys.length === 0) {
      return names;
    }
    const rows = await db.$queryRaw<
      {
        kind: "user" | "key";
        id: string;
        label: string;
        prefix: string | null;
        hint: string | null;
      }[]
    >`
      SELECT 'user' AS kind, u.id::text AS id, u.email AS label, NULL AS prefix, NULL AS hint
        FROM "User" u WHERE u.id = ANY(${users}::uuid[])
      UNION ALL
      SELECT 'key', k.id::text, k.name, k.prefix, k.hint
        FROM "ApiKey" k
       WHERE k."organizationId" = ${organizationId}::uuid AND k.id = ANY(${keys}::uuid[])`;
    for (const r of rows) {
      if (r.kind === "user") names.users.set(r.id, r.label);
      else names.keys.set(r.id, { name: r.label, prefix: r.prefix ?? "", hint: r.hint ?? "" });
    }
    return names;
  },
};
