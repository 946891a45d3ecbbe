// The one audit writer: every service records its changes through it, inside the transaction
// that makes the change, so the row and the change commit (or roll back) together.
import type { Tx } from "@/lib/db";
import {
  type AuditAction,
  type AuditTargetType,
  auditRepository,
} from "@/lib/repositories/audit-repository";
import type { Actor } from "./actor";

export type { AuditAction };

export interface AuditEntry {
  organizationId: string;
  action: AuditAction;
  target: { type: AuditTargetType; id: string } | null;
  /** Never a secret: no plaintext keys, no password hashes, no tokens. */
  metadata?: Record<string, unknown> | null;
}

export async function writeAudit(tx: Tx, actor: Actor, entry: AuditEntry): Promise<void> {
  await auditRepository.create(tx, {
    organizationId: entry.organizationId,
    actorType: actor.type,
    actorId: actor.id ?? null,
    action: entry.action,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    metadata: entry.metadata ?? null,
    ipAddress: actor.ip ?? null,
  });
}
