// Email verification and invitations on a real database (PGlite always, PostgreSQL when
// DATABASE_URL is set), with mail received by a real SMTP server: one-time links, expiry,
// hashed storage (the plaintext token is nowhere in the database), role rules, and the sign-up
// squatting attack (an unverified account never joins an organization).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hashToken } from "@/lib/auth/one-time-token";
import { SmtpSender } from "@/lib/mail/smtp";
import { POLICIES } from "@/lib/ratelimit/policies";
import type { Actor } from "@/lib/services/actor";
import {
  checkEmailVerification,
  confirmEmailVerification,
  EMAIL_VERIFICATION_TTL_MS,
  sendEmailVerification,
} from "@/lib/services/email-verification-service";
import {
  acceptInvitation,
  createInvitation,
  declineInvitation,
  getInvitationByToken,
  INVITATION_TTL_MS,
  listPendingInvitations,
  resendInvitation,
  revokeInvitation,
} from "@/lib/services/invitation-service";
import { getMembershipBySlug } from "@/lib/services/org-service";
import {
  authenticateWithPassword,
  createUserInOrganization,
  findOrCreateOAuthUser,
  signUp,
} from "@/lib/services/user-service";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { linkIn, type SmtpCapture, startSmtpCapture, tokenOf } from "@/tests/helpers/mail";
import { freePort } from "@/tests/helpers/server";

const PASSWORD = "a long passphrase";

// The invitation and mail limits, not Redis's latency: with REDIS_URL, an EVALSHA that outlasts
// the 100 ms default on a loaded machine fails the per-address limit closed (RATE_LIMITED before
// the limit, as designed; tested in tests/ratelimit/policies.test.ts), which is not what these
// tests count. The stub is in place before the process's limiter connects.
beforeAll(() => {
  vi.stubEnv("REDIS_COMMAND_TIMEOUT_MS", "30000");
});

describe.each(testDbKinds)("accounts: verification and invitations (%s)", (kind) => {
  let t: TestDatabase;
  let smtp: SmtpCapture;
  let sender: SmtpSender;
  const run = randomUUID().slice(0, 8);
  const email = (who: string) => `${who}-${run}@accounts.test`;

  beforeAll(async () => {
    [t, smtp] = await Promise.all([createTestDatabase(kind), startSmtpCapture()]);
    sender = new SmtpSender(smtp.url, "Keyward <keyward@localhost>");
  });
  afterAll(async () => {
    await sender?.close();
    await smtp?.close();
    await t?.close();
  });

  // Each user acts from an address of their own (a rate-limit key only: nothing is sent there),
  // so the per-address invitation limit counts one test's invitations, not the whole file's.
  // Random per run: with REDIS_URL the limiter's counters outlive the run.
  const nextAddress = () => `2001:db8::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;

  async function newUser(who: string, verified = false, ip = nextAddress()) {
    const { user, organization } = await signUp(
      t.prisma,
      { name: who, email: email(who), password: PASSWORD, organizationName: `${who} ${run}` },
      { type: "user", ip },
    );
    if (verified) await verify(user.id, user.email);
    const actor: Actor = { type: "user", id: user.id, ip };
    return { user, organization, actor };
  }

  async function verify(userId: string, address: string) {
    const before = smtp.messages.filter((m) => m.to === address).length;
    await sendEmailVerification(t.prisma, userId, { sender });
    const mail = await smtp.waitFor(address, { skip: before });
    await confirmEmailVerification(t.prisma, tokenOf(linkIn(mail.text, "/verify-email/")));
  }

  /** Every text column of every row of a table, as one string. */
  async function dump(table: "Invitation" | "EmailVerification" | "AuditLog"): Promise<string> {
    const rows = await t.prisma.$queryRawUnsafe<unknown[]>(`SELECT * FROM "${table}"`);
    return JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? String(v) : v));
  }

  it("a verification link is mailed, stored hashed, works once, and marks the email verified", async () => {
    const { user } = await newUser("vera");
    expect(user.emailVerified).toBeNull();
    const sent = await sendEmailVerification(t.prisma, user.id, { sender });
    expect(sent.status).toBe("sent");
    const mail = await smtp.waitFor(user.email, { subject: /Confirm/ });
    expect(mail.user).toBe("keyward"); // it signed in to the SMTP server with SMTP_URL's user
    const link = linkIn(mail.text, "/verify-email/");
    const token = tokenOf(link);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const stored = await dump("EmailVerification");
    expect(stored).not.toContain(token);
    expect(stored).toContain(hashToken(token));

    expect(await checkEmailVerification(t.prisma, token)).toEqual({
      state: "valid",
      email: user.email,
    });
    await expect(confirmEmailVerification(t.prisma, token)).resolves.toEqual({
      userId: user.id,
      email: user.email,
    });
    const after = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(after.emailVerified).toBeInstanceOf(Date);
    // Second use refused; the page says "used".
    await expect(confirmEmailVerification(t.prisma, token)).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("already used"),
    });
    expect((await checkEmailVerification(t.prisma, token)).state).toBe("used");
    expect((await sendEmailVerification(t.prisma, user.id, { sender })).status).toBe(
      "already_verified",
    );
    // Tokens that are malformed or unknown are refused the same way.
    for (const bad of ["", "x", "a".repeat(43), `${token.slice(0, 42)}!`, null]) {
      await expect(confirmEmailVerification(t.prisma, bad)).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    }
  });

  it("a verification link expires after 24 hours, and a new link voids the older one", async () => {
    const { user } = await newUser("exp");
    const longAgo = new Date(Date.now() - EMAIL_VERIFICATION_TTL_MS - 60_000);
    await sendEmailVerification(t.prisma, user.id, { sender, now: longAgo });
    const old = tokenOf(linkIn((await smtp.waitFor(user.email)).text, "/verify-email/"));
    expect((await checkEmailVerification(t.prisma, old)).state).toBe("expired");
    await expect(confirmEmailVerification(t.prisma, old)).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("expired"),
    });

    await sendEmailVerification(t.prisma, user.id, { sender });
    const first = tokenOf(linkIn((await smtp.waitFor(user.email, { skip: 1 })).text, "/verify-"));
    await sendEmailVerification(t.prisma, user.id, { sender });
    const second = tokenOf(linkIn((await smtp.waitFor(user.email, { skip: 2 })).text, "/verify-"));
    await expect(confirmEmailVerification(t.prisma, first)).rejects.toMatchObject({
      code: "CONFLICT",
    });
    await confirmEmailVerification(t.prisma, second);
    expect(
      (await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).emailVerified,
    ).not.toBeNull();
  });

  it("an admin invites; only the verified invitee accepts, once, with the invited role", async () => {
    const owner = await newUser("owner", true);
    const orgId = owner.organization.id;
    const invitee = await newUser("invitee");
    const stranger = await newUser("stranger", true);

    const created = await createInvitation(
      t.prisma,
      orgId,
      { email: invitee.user.email.toUpperCase(), role: "ADMIN" },
      owner.actor,
      "OWNER",
      { sender },
    );
    expect(created.mailed).toBe(true);
    expect(created.invitation).toMatchObject({ email: invitee.user.email, role: "ADMIN" });
    const expiresIn = created.invitation.expiresAt.getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(INVITATION_TTL_MS - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(INVITATION_TTL_MS);
    const mail = await smtp.waitFor(invitee.user.email, { subject: /invited/ });
    expect(mail.subject).toContain(owner.organization.name);
    const token = tokenOf(linkIn(mail.text, "/invite/"));
    expect(token).toBe(created.token);
    for (const table of ["Invitation", "AuditLog"] as const) {
      expect(await dump(table)).not.toContain(token);
    }
    expect(await dump("Invitation")).toContain(hashToken(token));

    expect(await getInvitationByToken(t.prisma, token)).toMatchObject({
      state: "pending",
      organizationName: owner.organization.name,
      role: "ADMIN",
      email: invitee.user.email,
    });
    // The same address twice is refused; a member cannot be invited.
    await expect(
      createInvitation(
        t.prisma,
        orgId,
        { email: invitee.user.email, role: "VIEWER" },
        owner.actor,
        "OWNER",
        { sender },
      ),
    ).rejects.toMatchObject({ code: "CONFLICT", issues: [{ path: "email" }] });
    await expect(
      createInvitation(
        t.prisma,
        orgId,
        { email: owner.user.email, role: "VIEWER" },
        owner.actor,
        "OWNER",
        { sender },
      ),
    ).rejects.toMatchObject({ code: "CONFLICT" });

    // Not yet a member; an unverified invitee and another user cannot accept.
    expect(
      await getMembershipBySlug(t.prisma, invitee.user.id, owner.organization.slug),
    ).toBeNull();
    await expect(
      acceptInvitation(t.prisma, token, invitee.user.id, invitee.actor),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringContaining("Confirm your email"),
    });
    await expect(
      acceptInvitation(t.prisma, token, stranger.user.id, stranger.actor),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringContaining(invitee.user.email),
    });
    expect(
      await getMembershipBySlug(t.prisma, invitee.user.id, owner.organization.slug),
    ).toBeNull();

    await verify(invitee.user.id, invitee.user.email);
    await expect(
      acceptInvitation(t.prisma, token, invitee.user.id, invitee.actor),
    ).resolves.toEqual({
      organizationSlug: owner.organization.slug,
      role: "ADMIN",
    });
    expect(
      (await getMembershipBySlug(t.prisma, invitee.user.id, owner.organization.slug))?.role,
    ).toBe("ADMIN");
    await expect(
      acceptInvitation(t.prisma, token, invitee.user.id, invitee.actor),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("already accepted"),
    });
    expect((await getInvitationByToken(t.prisma, token))?.state).toBe("accepted");
    expect(await listPendingInvitations(t.prisma, orgId)).toEqual([]);
    const actions = (
      await t.prisma.auditLog.findMany({
        where: { organizationId: orgId },
        orderBy: { createdAt: "asc" },
      })
    ).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(["invitation.created", "invitation.accepted", "member.added"]),
    );
  });

  it("role rules: viewers cannot invite, an admin cannot invite or revoke an owner", async () => {
    const owner = await newUser("roles", true);
    const orgId = owner.organization.id;
    const target = email("target");
    await expect(
      createInvitation(t.prisma, orgId, { email: target, role: "VIEWER" }, owner.actor, "VIEWER", {
        sender,
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      createInvitation(t.prisma, orgId, { email: target, role: "OWNER" }, owner.actor, "ADMIN", {
        sender,
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", issues: [{ path: "role" }] });
    const asOwner = await createInvitation(
      t.prisma,
      orgId,
      { email: target, role: "OWNER" },
      owner.actor,
      "OWNER",
      { sender },
    );
    await expect(
      resendInvitation(t.prisma, orgId, asOwner.invitation.id, owner.actor, "ADMIN", { sender }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      revokeInvitation(t.prisma, orgId, asOwner.invitation.id, owner.actor, "ADMIN"),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    // Another organization's invitation looks like a missing one.
    const other = await newUser("otherorg", true);
    await expect(
      revokeInvitation(
        t.prisma,
        other.organization.id,
        asOwner.invitation.id,
        other.actor,
        "OWNER",
      ),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await revokeInvitation(t.prisma, orgId, asOwner.invitation.id, owner.actor, "OWNER");
    expect((await getInvitationByToken(t.prisma, asOwner.token))?.state).toBe("revoked");
    await expect(
      revokeInvitation(t.prisma, orgId, asOwner.invitation.id, owner.actor, "OWNER"),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("declined, revoked, expired and replaced links make nobody a member", async () => {
    const owner = await newUser("closed", true);
    const orgId = owner.organization.id;
    const invitee = await newUser("closedinvitee", true);
    const invite = () =>
      createInvitation(
        t.prisma,
        orgId,
        { email: invitee.user.email, role: "VIEWER" },
        owner.actor,
        "OWNER",
        { sender },
      );
    const isMember = async () =>
      (await getMembershipBySlug(t.prisma, invitee.user.id, owner.organization.slug)) !== null;

    // Declined (no sign-in needed), then refused.
    const declined = await invite();
    await expect(
      declineInvitation(t.prisma, declined.token, { type: "system", ip: "127.0.0.1" }),
    ).resolves.toEqual({
      organizationName: owner.organization.name,
    });
    await expect(
      acceptInvitation(t.prisma, declined.token, invitee.user.id, invitee.actor),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("declined"),
    });
    await expect(declineInvitation(t.prisma, declined.token, invitee.actor)).rejects.toMatchObject({
      code: "CONFLICT",
    });

    // Revoked.
    const revoked = await invite();
    await revokeInvitation(t.prisma, orgId, revoked.invitation.id, owner.actor, "OWNER");
    await expect(
      acceptInvitation(t.prisma, revoked.token, invitee.user.id, invitee.actor),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("revoked"),
    });

    // Expired: created more than 7 days ago through the service.
    const expired = await createInvitation(
      t.prisma,
      orgId,
      { email: invitee.user.email, role: "VIEWER" },
      owner.actor,
      "OWNER",
      { sender, now: new Date(Date.now() - INVITATION_TTL_MS - 60_000) },
    );
    expect((await getInvitationByToken(t.prisma, expired.token))?.state).toBe("expired");
    expect((await listPendingInvitations(t.prisma, orgId))[0]?.expired).toBe(true);
    await expect(
      acceptInvitation(t.prisma, expired.token, invitee.user.id, invitee.actor),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("expired"),
    });
    expect(await isMember()).toBe(false);

    // Resent: a new link (7 more days); the old link stops working, the new one works.
    const resent = await resendInvitation(
      t.prisma,
      orgId,
      expired.invitation.id,
      owner.actor,
      "OWNER",
      { sender },
    );
    expect(resent.token).not.toBe(expired.token);
    expect(resent.invitation.expired).toBe(false);
    expect(await getInvitationByToken(t.prisma, expired.token)).toBeNull();
    await expect(
      acceptInvitation(t.prisma, expired.token, invitee.user.id, invitee.actor),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await acceptInvitation(t.prisma, resent.token, invitee.user.id, invitee.actor);
    expect(await isMember()).toBe(true);
    const actions = (await t.prisma.auditLog.findMany({ where: { organizationId: orgId } })).map(
      (a) => a.action,
    );
    for (const a of [
      "invitation.created",
      "invitation.declined",
      "invitation.revoked",
      "invitation.resent",
      "invitation.accepted",
    ]) {
      expect(actions).toContain(a);
    }
  });

  it("a failed mail keeps the invitation pending and resendable", async () => {
    const owner = await newUser("mailfail", true);
    const dead = new SmtpSender(`smtp://keyward:x@127.0.0.1:${await freePort()}`, "k@localhost");
    const target = email("unreached");
    const created = await createInvitation(
      t.prisma,
      owner.organization.id,
      { email: target, role: "VIEWER" },
      owner.actor,
      "OWNER",
      { sender: dead },
    );
    await dead.close();
    expect(created.mailed).toBe(false);
    const [pending] = await listPendingInvitations(t.prisma, owner.organization.id);
    expect(pending).toMatchObject({ email: target, sentAt: null, status: "PENDING" });
    const resent = await resendInvitation(
      t.prisma,
      owner.organization.id,
      pending!.id,
      owner.actor,
      "OWNER",
      { sender },
    );
    expect(resent.mailed).toBe(true);
    expect(resent.invitation.sentAt).toBeInstanceOf(Date);
    expect(tokenOf(linkIn((await smtp.waitFor(target)).text, "/invite/"))).toBe(resent.token);
  });

  it("invitations to one address are throttled", async () => {
    const owner = await newUser("throttle", true);
    const target = email("flooded");
    const first = await createInvitation(
      t.prisma,
      owner.organization.id,
      { email: target, role: "VIEWER" },
      owner.actor,
      "OWNER",
      { sender },
    );
    for (let i = 0; i < 4; i++) {
      await resendInvitation(
        t.prisma,
        owner.organization.id,
        first.invitation.id,
        owner.actor,
        "OWNER",
        { sender },
      );
    }
    await expect(
      resendInvitation(t.prisma, owner.organization.id, first.invitation.id, owner.actor, "OWNER", {
        sender,
      }),
    ).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it("invitations from one client address are throttled across organizations", async () => {
    const ip = nextAddress();
    const owners = [await newUser("addr-a", true, ip), await newUser("addr-b", true, ip)];
    const limit = POLICIES.invitePerAddress.limit;
    for (let i = 0; i < limit; i++) {
      const owner = owners[i % 2];
      await createInvitation(
        t.prisma,
        owner.organization.id,
        { email: email(`addr-${i}`), role: "VIEWER" },
        owner.actor,
        "OWNER",
        { sender },
      );
    }
    await expect(
      createInvitation(
        t.prisma,
        owners[0].organization.id,
        { email: email("addr-over"), role: "VIEWER" },
        owners[0].actor,
        "OWNER",
        { sender },
      ),
    ).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it("signing up first with someone's address gets the squatter nowhere", async () => {
    const owner = await newUser("corp", true);
    const squatter = await newUser("newhire"); // never verifies: the mailbox is not theirs
    const invited = await createInvitation(
      t.prisma,
      owner.organization.id,
      { email: squatter.user.email, role: "ADMIN" },
      owner.actor,
      "OWNER",
      { sender },
    );
    await expect(
      acceptInvitation(t.prisma, invited.token, squatter.user.id, squatter.actor),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    // The operator CLI does not add the squatter's account either.
    await expect(
      createUserInOrganization(
        t.prisma,
        {
          email: squatter.user.email,
          password: "operator chosen pw",
          org: owner.organization.slug,
          role: "ADMIN",
        },
        { type: "cli" },
      ),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(
      await getMembershipBySlug(t.prisma, squatter.user.id, owner.organization.slug),
    ).toBeNull();

    // When the real owner of the address signs in with a provider that verified it, the account
    // becomes theirs and the squatter's password stops working.
    const claimed = await findOrCreateOAuthUser(t.prisma, {
      email: squatter.user.email,
      name: null,
      image: null,
    });
    expect(claimed.id).toBe(squatter.user.id);
    expect(claimed.emailVerified).toBeInstanceOf(Date);
    expect(await authenticateWithPassword(t.prisma, squatter.user.email, PASSWORD)).toBeNull();

    // Operator-created users are verified.
    const made = await createUserInOrganization(
      t.prisma,
      {
        email: email("opmade"),
        password: "operator chosen pw",
        org: owner.organization.slug,
        role: "VIEWER",
      },
      { type: "cli" },
    );
    expect(made.user.emailVerified).toBeInstanceOf(Date);
  });
});
