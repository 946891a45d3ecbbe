import type { Tx } from "@/lib/db";
import type { Invitation, InvitationStatus, Role } from "@/lib/db/generated/client";
import { normalizeEmail, scopeId } from "./shared";

export type { Invitation, InvitationStatus };

export const invitationRepository = {
  async create(
    db: Tx,
    input: {
      organizationId: string;
      email: string;
      role: Role;
      tokenHash: string;
      expiresAt: Date;
      invitedById: string | null;
    },
  ): Promise<Invitation> {
    scopeId(input.organizationId, "organizationId");
    return db.invitation.create({ data: { ...input, email: normalizeEmail(input.email) } });
  },

  async getByTokenHash(db: Tx, tokenHash: string): Promise<Invitation | null> {
    return db.invitation.findUnique({ where: { tokenHash } });
  },

  /** One invitation of the organization; another organization's id answers null. */
  async get(db: Tx, organizationId: string, id: string): Promise<Invitation | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id)) return null;
    return db.invitation.findFirst({ where: { id, organizationId } });
  },

  /** The organization's pending invitation for this email, if any (expired ones included). */
  async getPendingForEmail(
    db: Tx,
    organizationId: string,
    email: string,
  ): Promise<Invitation | null> {
    if (!scopeId(organizationId, "organizationId")) return null;
    return db.invitation.findFirst({
      where: { organizationId, email: normalizeEmail(email), status: "PENDING" },
    });
  },

  /** Pending invitations, newest first (at most 200: an organization has few at a time). */
  async listPending(db: Tx, organizationId: string, limit = 200): Promise<Invitation[]> {
    if (!scopeId(organizationId, "organizationId")) return [];
    return db.invitation.findMany({
      where: { organizationId, status: "PENDING" },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit,
    });
  },

  /**
   * Moves a PENDING invitation to `status`, only if it is still PENDING: false when someone else
   * answered, revoked or resent it first (so a token works once, even under concurrency).
   */
  async respond(
    db: Tx,
    id: string,
    tokenHash: string,
    input: { status: Exclude<InvitationStatus, "PENDING">; at: Date; byUserId: string | null },
  ): Promise<boolean> {
    if (!scopeId(id)) return false;
    const { count } = await db.invitation.updateMany({
      where: { id, tokenHash, status: "PENDING" },
      data: { status: input.status, respondedAt: input.at, respondedById: input.byUserId },
    });
    return count === 1;
  },

  /** A new token and expiry for a pending invitation; false when it is no longer pending. */
  async renew(
    db: Tx,
    organizationId: string,
    id: string,
    input: { tokenHash: string; expiresAt: Date },
  ): Promise<boolean> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(id)) return false;
    const { count } = await db.invitation.updateMany({
      where: { id, organizationId, status: "PENDING" },
      data: { ...input, sentAt: null },
    });
    return count === 1;
  },

  async markSent(db: Tx, id: string, at: Date | null): Promise<void> {
    if (!scopeId(id)) return;
    await db.invitation.updateMany({ where: { id }, data: { sentAt: at } });
  },
};
