// Invitations: how anyone joins an organization. An OWNER or ADMIN invites an email with a role
// (an ADMIN cannot invite an OWNER); the invitee gets a one-time link (7 days) and accepts or
// declines. Accepting needs a signed-in user whose verified email is the invited one. Tokens are
// stored hashed; resending replaces the token. Every change writes its audit row in the same
// transaction; mail goes out after the commit, and a failed mail leaves the invitation pending
// and resendable (sentAt null), never lost.
import { createOneTimeToken, hashToken, isTokenFormat } from "@/lib/auth/one-time-token";
import { hasRole, type Role } from "@/lib/auth/roles";
import type { Db, Tx } from "@/lib/db";
import { forbidden, KeywardError, notFound } from "@/lib/errors";
import { deliverMail, type MailSender, publicUrl } from "@/lib/mail";
import { assertRateLimit } from "@/lib/ratelimit/policies";

import { type Invitation, invitationRepository } from "@/lib/repositories/invitation-repository";
import { membershipRepository } from "@/lib/repositories/membership-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { normalizeEmail } from "@/lib/repositories/shared";
import { userRepository } from "@/lib/repositories/user-repository";
import type { Actor } from "./actor";
import { type AuditAction, writeAudit } from "./audit";

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface InvitationOptions {
  sender?: MailSender;
  now?: Date;
}

/** What the settings page lists; never the token or its hash. */
export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  status: Invitation["status"];
  expiresAt: Date;
  expired: boolean;
  createdAt: Date;
  sentAt: Date | null;
}

function toView(row: Invitation, now: Date): InvitationView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    status: row.status,
    expiresAt: row.expiresAt,
    expired: row.expiresAt <= now,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
  };
}

function audit(
  tx: Tx,
  organizationId: string,
  actor: Actor,
  action: AuditAction,
  invitation: { id: string; email: string; role: Role },
  extra?: Record<string, unknown>,
) {
  return writeAudit(tx, actor, {
    organizationId,
    action,
    target: { type: "invitation", id: invitation.id },
    metadata: { email: invitation.email, role: invitation.role, ...extra },
  });
}

/** ADMIN and OWNER invite; only an OWNER invites (or re-sends to) an OWNER. */
export function assertMayInvite(actorRole: Role, role: Role): void {
  if (!hasRole(actorRole, "ADMIN")) throw forbidden("Only admins and owners can invite.");
  if (role === "OWNER" && actorRole !== "OWNER") {
    throw new KeywardError("FORBIDDEN", "Only an owner can invite another owner.", {
      issues: [{ path: "role", message: "Only an owner can invite another owner." }],
    });
  }
}

async function throttle(organizationId: string, email: string, actor: Actor) {
  // Per client address (PRODUCT.md section 9), per organization, and per invited address.
  if (actor.ip) await assertRateLimit("invitePerAddress", actor.ip);
  await assertRateLimit("invitePerOrg", organizationId);
  await assertRateLimit("invitePerInvitee", email);
}

async function mailInvitation(
  db: Db,
  invitation: { id: string; email: string; role: Role },
  organizationName: string,
  token: string,
  options: InvitationOptions,
): Promise<boolean> {
  const link = publicUrl(`/invite/${token}`);
  const sent = await deliverMail(
    {
      to: invitation.email,
      subject: `You are invited to ${organizationName} on Keyward`,
      text: [
        `You are invited to join the organization "${organizationName}" on Keyward as ${invitation.role.toLowerCase()}.`,
        "",
        "Accept or decline here:",
        "",
        link,
        "",
        "The link works once and expires in 7 days. To accept, sign in (or sign up) with this",
        "email address and confirm it. If you did not expect this, decline or ignore this mail.",
      ].join("\n"),
      link,
    },
    { sender: options.sender },
  );
  await invitationRepository.markSent(db, invitation.id, sent ? new Date() : null);
  return sent;
}

export interface CreatedInvitation {
  invitation: InvitationView;
  /** False when the mail could not be sent: the invitation stands, resend it. */
  mailed: boolean;
  /** The link's token, for the mail only (and for tests). Never logged or stored. */
  token: string;
}

export async function createInvitation(
  db: Db,
  organizationId: string,
  input: { email: string; role: Role },
  actor: Actor,
  actorRole: Role,
  options: InvitationOptions = {},
): Promise<CreatedInvitation> {
  assertMayInvite(actorRole, input.role);
  const email = normalizeEmail(input.email);
  const now = options.now ?? new Date();
  await throttle(organizationId, email, actor);
  const { token, tokenHash } = createOneTimeToken();
  const { invitation, organization } = await db.$transaction(async (tx) => {
    // Lock the organization row: two admins inviting one address at once make one invitation.
    const organization = await organizationRepository.update(tx, organizationId, {});
    if (!organization) throw notFound("organization");
    const existing = await userRepository.getByEmail(tx, email);
    if (existing && (await membershipRepository.get(tx, organizationId, existing.id))) {
      throw new KeywardError("CONFLICT", "This person is already a member.", {
        issues: [{ path: "email", message: "This person is already a member." }],
      });
    }
    if (await invitationRepository.getPendingForEmail(tx, organizationId, email)) {
      throw new KeywardError("CONFLICT", "This email is already invited.", {
        issues: [
          { path: "email", message: "Already invited: resend or revoke it in the list below." },
        ],
      });
    }
    const invitation = await invitationRepository.create(tx, {
      organizationId,
      email,
      role: input.role,
      tokenHash,
      expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      invitedById: actor.type === "user" ? (actor.id ?? null) : null,
    });
    await audit(tx, organizationId, actor, "invitation.created", invitation);
    return { invitation, organization };
  });
  const mailed = await mailInvitation(db, invitation, organization.name, token, options);
  return {
    invitation: toView({ ...invitation, sentAt: mailed ? now : null }, now),
    mailed,
    token,
  };
}

/** A new link (new token, 7 days from now) for a pending invitation; the old link stops working. */
export async function resendInvitation(
  db: Db,
  organizationId: string,
  invitationId: string,
  actor: Actor,
  actorRole: Role,
  options: InvitationOptions = {},
): Promise<CreatedInvitation> {
  const now = options.now ?? new Date();
  const current = await invitationRepository.get(db, organizationId, invitationId);
  if (current?.status !== "PENDING") throw notFound("invitation");
  assertMayInvite(actorRole, current.role);
  await throttle(organizationId, current.email, actor);
  const { token, tokenHash } = createOneTimeToken();
  const organization = await db.$transaction(async (tx) => {
    const organization = await organizationRepository.update(tx, organizationId, {});
    if (!organization) throw notFound("organization");
    const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
    if (
      !(await invitationRepository.renew(tx, organizationId, current.id, { tokenHash, expiresAt }))
    ) {
      throw notFound("invitation");
    }
    await audit(tx, organizationId, actor, "invitation.resent", current);
    return organization;
  });
  const mailed = await mailInvitation(db, current, organization.name, token, options);
  const after = await invitationRepository.get(db, organizationId, current.id);
  return { invitation: toView(after ?? current, now), mailed, token };
}

export async function revokeInvitation(
  db: Db,
  organizationId: string,
  invitationId: string,
  actor: Actor,
  actorRole: Role,
): Promise<void> {
  if (!hasRole(actorRole, "ADMIN"))
    throw forbidden("Only admins and owners can revoke invitations.");
  await db.$transaction(async (tx) => {
    const current = await invitationRepository.get(tx, organizationId, invitationId);
    if (current?.status !== "PENDING") throw notFound("invitation");
    if (current.role === "OWNER" && actorRole !== "OWNER") {
      throw forbidden("Only an owner can revoke an owner's invitation.");
    }
    const done = await invitationRepository.respond(tx, current.id, current.tokenHash, {
      status: "REVOKED",
      at: new Date(),
      byUserId: actor.type === "user" ? (actor.id ?? null) : null,
    });
    if (!done) throw notFound("invitation");
    await audit(tx, organizationId, actor, "invitation.revoked", current);
  });
}

export async function listPendingInvitations(
  db: Db,
  organizationId: string,
  now = new Date(),
): Promise<InvitationView[]> {
  return (await invitationRepository.listPending(db, organizationId)).map((r) => toView(r, now));
}

export type InvitationState = "pending" | "expired" | "accepted" | "declined" | "revoked";

/** What the invitation page shows for a link: the organization, the role, the invited email. */
export interface InvitationLinkView {
  state: InvitationState;
  organizationName: string;
  organizationSlug: string;
  email: string;
  role: Role;
  expiresAt: Date;
}

function stateOf(row: Invitation, now: Date): InvitationState {
  if (row.status === "PENDING") return row.expiresAt <= now ? "expired" : "pending";
  return row.status.toLowerCase() as InvitationState;
}

/** The invitation a link names, or null for a link that names none (or was replaced). */
export async function getInvitationByToken(
  db: Db,
  token: unknown,
  now = new Date(),
): Promise<InvitationLinkView | null> {
  if (!isTokenFormat(token)) return null;
  const row = await invitationRepository.getByTokenHash(db, hashToken(token));
  if (!row) return null;
  const organization = await organizationRepository.getById(db, row.organizationId);
  if (!organization) return null;
  return {
    state: stateOf(row, now),
    organizationName: organization.name,
    organizationSlug: organization.slug,
    email: row.email,
    role: row.role,
    expiresAt: row.expiresAt,
  };
}

const NOT_VALID = "This invitation link is not valid. Ask for a new invitation.";

const STATE_MESSAGES: Record<Exclude<InvitationState, "pending">, string> = {
  expired: "This invitation has expired. Ask an admin of the organization for a new one.",
  accepted: "This invitation was already accepted.",
  declined: "This invitation was declined.",
  revoked: "This invitation was revoked.",
};

async function pendingByToken(tx: Tx, token: unknown, now: Date): Promise<Invitation> {
  if (!isTokenFormat(token)) throw new KeywardError("NOT_FOUND", NOT_VALID);
  const row = await invitationRepository.getByTokenHash(tx, hashToken(token));
  if (!row) throw new KeywardError("NOT_FOUND", NOT_VALID);
  const state = stateOf(row, now);
  if (state !== "pending") throw new KeywardError("CONFLICT", STATE_MESSAGES[state]);
  return row;
}

/**
 * Accepts an invitation as `userId`: the user's email must be the invited one and verified. The
 * membership and the answer are one transaction; a token works once.
 */
export async function acceptInvitation(
  db: Db,
  token: unknown,
  userId: string,
  actor: Actor,
  now = new Date(),
): Promise<{ organizationSlug: string; role: Role }> {
  return db.$transaction(async (tx) => {
    const row = await pendingByToken(tx, token, now);
    const user = await userRepository.getById(tx, userId);
    if (!user) throw new KeywardError("UNAUTHORIZED", "Sign in to accept this invitation.");
    if (user.email !== row.email) {
      throw forbidden(`This invitation is for ${row.email}. Sign in with that email to accept it.`);
    }
    if (!user.emailVerified) {
      throw forbidden(
        "Confirm your email address first: open the link we sent you (or send a new one), then accept.",
      );
    }
    const organization = await organizationRepository.update(tx, row.organizationId, {});
    if (!organization) throw new KeywardError("NOT_FOUND", NOT_VALID);
    if (await membershipRepository.get(tx, row.organizationId, user.id)) {
      throw new KeywardError("CONFLICT", "You are already a member of this organization.");
    }
    if (
      !(await invitationRepository.respond(tx, row.id, row.tokenHash, {
        status: "ACCEPTED",
        at: now,
        byUserId: user.id,
      }))
    ) {
      throw new KeywardError("CONFLICT", "This invitation was already answered.");
    }
    await membershipRepository.add(tx, {
      organizationId: row.organizationId,
      userId: user.id,
      role: row.role,
    });
    await audit(tx, row.organizationId, actor, "invitation.accepted", row);
    await writeAudit(tx, actor, {
      organizationId: row.organizationId,
      action: "member.added",
      target: { type: "user", id: user.id },
      metadata: { email: user.email, role: row.role, invitationId: row.id },
    });
    return { organizationSlug: organization.slug, role: row.role };
  });
}

/** Declines an invitation. The link alone is enough: declining grants nothing. */
export async function declineInvitation(
  db: Db,
  token: unknown,
  actor: Actor,
  now = new Date(),
): Promise<{ organizationName: string }> {
  return db.$transaction(async (tx) => {
    const row = await pendingByToken(tx, token, now);
    const byUserId = actor.type === "user" ? (actor.id ?? null) : null;
    if (
      !(await invitationRepository.respond(tx, row.id, row.tokenHash, {
        status: "DECLINED",
        at: now,
        byUserId,
      }))
    ) {
      throw new KeywardError("CONFLICT", "This invitation was already answered.");
    }
    await audit(tx, row.organizationId, actor, "invitation.declined", row);
    const organization = await organizationRepository.getById(tx, row.organizationId);
    return { organizationName: organization?.name ?? "" };
  });
}
