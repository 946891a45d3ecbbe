// Sign-up and membership rules against a real database: one transaction with audit rows, a taken
// email refused, roles enforced, and the last owner never removed or demoted.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SmtpSender } from "@/lib/mail/smtp";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { linkIn, startSmtpCapture, tokenOf } from "@/tests/helpers/mail";
import { confirmEmailVerification, sendEmailVerification } from "./email-verification-service";
import { acceptInvitation, createInvitation } from "./invitation-service";
import {
  changeMemberRole,
  createOrganization,
  getMembershipBySlug,
  listMembers,
  removeMember,
} from "./org-service";
import { authenticateWithPassword, signUp } from "./user-service";

const actor = { type: "user" as const, id: undefined, ip: "127.0.0.1" };

describe.each(testDbKinds)("org and user services (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("signs up a user with an organization they own, audited, and refuses the email twice", async () => {
    const { user, organization } = await signUp(
      t.prisma,
      {
        name: "Ada",
        email: "Ada@Example.test",
        password: "a long passphrase",
        organizationName: "Acme",
      },
      actor,
    );
    expect(user.email).toBe("ada@example.test");
    expect(organization.slug).toBe("acme");
    expect((await getMembershipBySlug(t.prisma, user.id, "acme"))?.role).toBe("OWNER");
    const audit = await t.prisma.auditLog.findMany({ where: { organizationId: organization.id } });
    expect(audit.map((a) => a.action).sort()).toEqual(["member.added", "org.created"]);
    expect(audit.every((a) => a.actorId === user.id)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain("a long passphrase");

    expect(
      await authenticateWithPassword(t.prisma, "ada@example.test", "a long passphrase"),
    ).not.toBeNull();
    expect(await authenticateWithPassword(t.prisma, "ada@example.test", "wrong")).toBeNull();
    expect(await authenticateWithPassword(t.prisma, "nobody@example.test", "x")).toBeNull();

    await expect(
      signUp(
        t.prisma,
        {
          name: "A2",
          email: "ada@example.test",
          password: "another passphrase",
          organizationName: "Other",
        },
        actor,
      ),
    ).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("keeps reserved words out of slugs", async () => {
    const org = await createOrganization(
      t.prisma,
      { name: "Dashboard", email: "d@example.test" },
      actor,
    );
    expect(org.slug).toBe("dashboard-org");
  });

  it("enforces roles and never loses the last owner", async () => {
    // Addresses of this run only: invitation mail is throttled per invited address, and with
    // REDIS_URL the limiter's counters outlive the run.
    const run = randomUUID().slice(0, 8);
    const { user: owner, organization } = await signUp(
      t.prisma,
      {
        name: "O",
        email: `owner-${run}@roles.test`,
        password: "a long passphrase",
        organizationName: "Roles",
      },
      actor,
    );
    const { user: other } = await signUp(
      t.prisma,
      {
        name: "V",
        email: `viewer-${run}@roles.test`,
        password: "a long passphrase",
        organizationName: "Viewer Co",
      },
      actor,
    );
    const ownerActor = { type: "user" as const, id: owner.id };
    const orgId = organization.id;

    // People join by invitation only, once they verified their email.
    const smtp = await startSmtpCapture();
    const sender = new SmtpSender(smtp.url, "Keyward <keyward@localhost>");
    try {
      const { token } = await createInvitation(
        t.prisma,
        orgId,
        { email: other.email, role: "VIEWER" },
        ownerActor,
        "OWNER",
        { sender },
      );
      await expect(
        createInvitation(
          t.prisma,
          orgId,
          { email: other.email, role: "VIEWER" },
          ownerActor,
          "OWNER",
          { sender },
        ),
      ).rejects.toMatchObject({ code: "CONFLICT" });
      await sendEmailVerification(t.prisma, other.id, { sender });
      const verify = await smtp.waitFor(other.email, { subject: /Confirm/ });
      await confirmEmailVerification(t.prisma, tokenOf(linkIn(verify.text, "/verify-email/")));
      await acceptInvitation(t.prisma, token, other.id, { type: "user", id: other.id });
    } finally {
      await sender.close();
      await smtp.close();
    }

    // A viewer changes nothing; an admin cannot touch owners.
    await expect(
      changeMemberRole(
        t.prisma,
        orgId,
        other.id,
        "ADMIN",
        { type: "user", id: other.id },
        "VIEWER",
      ),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await changeMemberRole(t.prisma, orgId, other.id, "ADMIN", ownerActor, "OWNER");
    await expect(
      changeMemberRole(
        t.prisma,
        orgId,
        owner.id,
        "VIEWER",
        { type: "user", id: other.id },
        "ADMIN",
      ),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      removeMember(t.prisma, orgId, owner.id, { type: "user", id: other.id }, "ADMIN"),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });

    // The only owner can neither demote nor remove themself.
    await expect(
      changeMemberRole(t.prisma, orgId, owner.id, "ADMIN", ownerActor, "OWNER"),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(
      removeMember(t.prisma, orgId, owner.id, ownerActor, "OWNER"),
    ).rejects.toMatchObject({
      code: "CONFLICT",
    });

    // With a second owner, the first may step down.
    await changeMemberRole(t.prisma, orgId, other.id, "OWNER", ownerActor, "OWNER");
    await changeMemberRole(t.prisma, orgId, owner.id, "VIEWER", ownerActor, "OWNER");
    const roles = Object.fromEntries(
      (await listMembers(t.prisma, orgId)).map((m) => [m.user.email, m.role]),
    );
    expect(roles).toEqual({ [owner.email]: "VIEWER", [other.email]: "OWNER" });
    const actions = (await t.prisma.auditLog.findMany({ where: { organizationId: orgId } })).map(
      (a) => a.action,
    );
    expect(actions.filter((a) => a === "member.role_changed")).toHaveLength(3);
  });
});
