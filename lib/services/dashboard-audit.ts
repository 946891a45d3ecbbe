// The audit log page's reads: the organization's entries, with who and what (user emails, key
// names) resolved in one query per page.
import type { Tx } from "@/lib/db";
import { auditRepository } from "@/lib/repositories/audit-repository";

export const AUDIT_PAGE_SIZE = 25;

export { AUDIT_ACTIONS } from "@/lib/repositories/audit-repository";

export interface AuditEntryView {
  id: string;
  action: string;
  createdAt: Date;
  actor: string;
  actorType: string;
  target: string | null;
  targetHref: string | null;
  ipAddress: string | null;
  details: string | null;
}

function describeMetadata(metadata: unknown): string | null {
  if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) return null;
  const m = metadata as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof m.reason === "string" && m.reason) parts.push(`reason: ${m.reason}`);
  if (typeof m.gracePeriod === "string") parts.push(`grace period: ${m.gracePeriod}`);
  if (typeof m.role === "string") parts.push(`role: ${m.role.toLowerCase()}`);
  if (typeof m.from === "string" && typeof m.to === "string") {
    parts.push(`${m.from.toLowerCase()} → ${m.to.toLowerCase()}`);
  }
  if (m.changes && typeof m.changes === "object") {
    parts.push(`changed: ${Object.keys(m.changes as object).join(", ")}`);
  }
  if (m.name && typeof m.name === "object") {
    const n = m.name as { from?: unknown; to?: unknown };
    parts.push(`name: ${String(n.from)} → ${String(n.to)}`);
  }
  return parts.length ? parts.join("; ") : null;
}

export async function listAuditEntries(
  db: Tx,
  organizationId: string,
  slug: string,
  options: { action?: string; cursor?: string },
): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
  const page = await auditRepository.listByOrganization(db, organizationId, {
    action: options.action || undefined,
    cursor: options.cursor,
    limit: AUDIT_PAGE_SIZE,
  });
  const userIds: string[] = [];
  const keyIds: string[] = [];
  for (const row of page.items) {
    if (row.actorType === "user" && row.actorId) userIds.push(row.actorId);
    if (row.targetType === "user" && row.targetId) userIds.push(row.targetId);
    if (row.targetType === "api_key" && row.targetId) keyIds.push(row.targetId);
    if (row.actorType === "key" && row.actorId) keyIds.push(row.actorId);
  }
  const names = await auditRepository.names(db, organizationId, { userIds, keyIds });
  const users = names.users;
  const keys = new Map(
    [...names.keys].map(([id, k]) => [id, `${k.name} (${k.prefix}…${k.hint})`] as const),
  );
  const items = page.items.map((row): AuditEntryView => {
    let actor: string = row.actorType;
    if (row.actorType === "user") actor = (row.actorId && users.get(row.actorId)) || "deleted user";
    if (row.actorType === "key")
      actor = `key ${(row.actorId && keys.get(row.actorId)) || row.actorId}`;
    if (row.actorType === "cli") actor = "command line";
    let target: string | null = null;
    let targetHref: string | null = null;
    if (row.targetType === "api_key" && row.targetId) {
      target = keys.get(row.targetId) ?? "deleted key";
      if (keys.has(row.targetId)) targetHref = `/${slug}/keys/${row.targetId}`;
    } else if (row.targetType === "user" && row.targetId) {
      target = users.get(row.targetId) ?? "deleted user";
    } else if (row.targetType === "organization") {
      target = "organization";
    }
    return {
      id: row.id,
      action: row.action,
      createdAt: row.createdAt,
      actor,
      actorType: row.actorType,
      target,
      targetHref,
      ipAddress: row.ipAddress,
      details: describeMetadata(row.metadata),
    };
  });
  return { items, nextCursor: page.nextCursor };
}
