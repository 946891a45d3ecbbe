// Accounts end to end, with real mail: this spec runs its own server with SMTP_URL pointing at an
// SMTP server the test starts (smtp-server), and reads every link from the mail it receives.
// Sign-up and confirming the email; an invitation accepted in the invitee's own browser (after
// an unverified attempt is refused); a declined invitation; an expired link refused.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { openDatabase } from "@/lib/db";
import { SmtpSender } from "@/lib/mail/smtp";
import { createInvitation, INVITATION_TTL_MS } from "@/lib/services/invitation-service";
import { getMembershipBySlug, getOrganizationBySlug } from "@/lib/services/org-service";
import { linkIn, type SmtpCapture, startSmtpCapture, tokenOf } from "@/tests/helpers/mail";
import { startServer, type TestServer } from "@/tests/helpers/server";

// Generous timeouts: each test signs up (argon2) and waits for mail on a shared, busy machine.
test.describe.configure({ mode: "serial", timeout: 180_000 });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const owner = {
  name: "Olga Owner",
  email: `olga-${RUN}@corp.test`,
  password: "correct horse battery staple",
  org: `Corp ${RUN}`,
};
const invitee = {
  name: "Ivan Invitee",
  email: `ivan-${RUN}@corp.test`,
  password: "another long passphrase",
  org: `Ivan Co ${RUN}`,
};
const decliner = `dora-${RUN}@corp.test`;
const late = `lars-${RUN}@corp.test`;

let smtp: SmtpCapture;
let server: TestServer;
let dataDir: string;
let ownerPage: Page;
let slug: string;

async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: { width: 1280, height: 800 },
  });
  return context.newPage();
}

async function signUp(page: Page, who: typeof owner): Promise<string> {
  await page.goto("/signup");
  await page.locator("#name").fill(who.name);
  await page.locator("#email").fill(who.email);
  await page.locator("#password").fill(who.password);
  await page.locator("#organizationName").fill(who.org);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);
  return new URL(page.url()).pathname.split("/")[1] ?? "";
}

/** The link of the `skip`-th mail to `to` whose subject matches, as a path on our server. */
async function mailedLink(to: string, subject: RegExp, prefix: string, skip = 0): Promise<string> {
  const mail = await smtp.waitFor(to, { subject, skip });
  const link = new URL(linkIn(mail.text, prefix));
  expect(link.origin).toBe(server.url); // links name the server's own address
  return link.pathname;
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  smtp = await startSmtpCapture();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "kw-e2e-mail-"));
  server = await startServer({
    dataDir,
    env: { SMTP_URL: smtp.url, REDIS_URL: undefined, RATE_LIMIT_STORE: undefined },
    readyTimeoutMs: 240_000, // a fresh embedded folder; slow on a busy machine
  });
  ownerPage = await newPage(browser);
});

test.afterAll(async () => {
  await ownerPage?.context().close();
  await server?.stop();
  await smtp?.close();
});

test("sign-up mails a confirmation link; following it confirms the email", async () => {
  slug = await signUp(ownerPage, owner);
  await expect(ownerPage.getByTestId("verify-banner")).toContainText(owner.email);
  const confirm = await mailedLink(owner.email, /Confirm/, "/verify-email/");
  expect(smtp.messages.find((m) => m.to === owner.email)?.user).toBe("keyward");

  await ownerPage.goto(confirm);
  await expect(ownerPage.getByText(owner.email)).toBeVisible();
  await ownerPage.getByTestId("confirm-email").click();
  await expect(ownerPage.getByTestId("confirm-outcome")).toContainText("is confirmed");
  // One-time: the same link now says so.
  await ownerPage.goto(confirm);
  await expect(ownerPage.getByTestId("verify-problem")).toContainText("already used");
  await ownerPage.goto(`/${slug}/keys`);
  await expect(ownerPage.getByRole("heading", { name: "API keys" })).toBeVisible();
  await expect(ownerPage.getByTestId("verify-banner")).toHaveCount(0);
});

test("an invitation: refused while unverified, accepted once confirmed, role in the members list", async ({
  browser,
}) => {
  await ownerPage.goto(`/${slug}/settings`);
  await ownerPage.locator("#member-email").fill(invitee.email);
  await ownerPage.locator("#member-role").selectOption("ADMIN");
  await ownerPage.getByTestId("invite").click();
  const row = ownerPage.getByTestId("invitation-row").filter({ hasText: invitee.email });
  await expect(row).toContainText("admin");
  await expect(row.getByTestId("invitation-mail")).toContainText("sent");
  // Invited is not a member.
  await expect(ownerPage.getByTestId("members-table")).not.toContainText(invitee.email);
  const invite = await mailedLink(invitee.email, /invited/, "/invite/");

  // The invitee, in their own browser: the page names the organization and the role.
  const page = await newPage(browser);
  await page.goto(invite);
  await expect(page.getByTestId("invitation-summary")).toContainText(owner.org);
  await expect(page.getByTestId("invitation-role")).toHaveText("admin");
  await expect(page.getByTestId("invitation-sign-in")).toBeVisible();
  await expect(page.getByTestId("accept-invitation")).toHaveCount(0);

  // Signed up but not yet confirmed: accepting is refused with a clear message.
  await signUp(page, invitee);
  await page.goto(invite);
  await expect(page.getByTestId("invitation-unverified")).toBeVisible();
  await page.getByTestId("accept-invitation").click();
  await expect(page.getByTestId("invitation-outcome")).toContainText("Confirm your email");
  await page.goto(`/${slug}/keys`);
  await expect(page.getByTestId("not-found")).toBeVisible();

  // Confirmed: accepting joins with the invited role.
  await page.goto(await mailedLink(invitee.email, /Confirm/, "/verify-email/"));
  await page.getByTestId("confirm-email").click();
  await expect(page.getByTestId("confirm-outcome")).toContainText("is confirmed");
  await page.goto(invite);
  await page.getByTestId("accept-invitation").click();
  await page.waitForURL(new RegExp(`/${slug}/keys$`));
  await expect(page.getByTestId("role-badge")).toHaveText("admin");
  // The link worked once.
  await page.goto(invite);
  await expect(page.getByTestId("invitation-problem")).toContainText("already accepted");
  await page.context().close();

  await ownerPage.goto(`/${slug}/settings`);
  const member = ownerPage.getByTestId("member-row").filter({ hasText: invitee.email });
  await expect(member).toContainText("admin");
  await expect(ownerPage.getByTestId("invitations-table")).toHaveCount(0);
  await ownerPage.goto(`/${slug}/audit`);
  await expect(ownerPage.getByTestId("audit-table")).toContainText("invitation.accepted");
  await expect(ownerPage.getByTestId("audit-table")).toContainText("invitation.created");
});

test("a declined invitation makes nobody a member and leaves the pending list", async ({
  browser,
}) => {
  await ownerPage.goto(`/${slug}/settings`);
  await ownerPage.locator("#member-email").fill(decliner);
  await ownerPage.getByTestId("invite").click();
  await expect(ownerPage.getByTestId("invitation-row").filter({ hasText: decliner })).toContainText(
    "viewer",
  );
  const invite = await mailedLink(decliner, /invited/, "/invite/");

  const page = await newPage(browser); // no account needed to decline
  await page.goto(invite);
  await expect(page.getByTestId("invitation-summary")).toContainText(owner.org);
  page.once("dialog", (d) => void d.accept());
  await page.getByTestId("decline-invitation").click();
  await expect(page.getByTestId("invitation-outcome")).toContainText("You declined");
  await page.goto(invite);
  await expect(page.getByTestId("invitation-problem")).toContainText("declined");
  await page.context().close();

  await ownerPage.goto(`/${slug}/settings`);
  await expect(ownerPage.getByTestId("invitations-table")).toHaveCount(0);
  await expect(ownerPage.getByTestId("members-table")).not.toContainText(decliner);
  await ownerPage.goto(`/${slug}/audit`);
  await expect(ownerPage.getByTestId("audit-table")).toContainText("invitation.declined");
});

test("an expired invitation link is refused; a resend mails a new one", async ({ browser }) => {
  test.setTimeout(300_000);
  // An invitation created 8 days ago, through the service, on the server's own database: the
  // embedded database has one owner, so the server stops while the fixture holds it.
  await server.stop();
  const db = await openDatabase({ kind: "pglite", dataDir });
  const sender = new SmtpSender(smtp.url, "Keyward <keyward@localhost>");
  let token: string;
  try {
    const org = await getOrganizationBySlug(db.prisma, slug);
    const ownerId = (await db.prisma.user.findUniqueOrThrow({ where: { email: owner.email } })).id;
    expect((await getMembershipBySlug(db.prisma, ownerId, slug))?.role).toBe("OWNER");
    ({ token } = await createInvitation(
      db.prisma,
      org.id,
      { email: late, role: "VIEWER" },
      { type: "user", id: ownerId },
      "OWNER",
      { now: new Date(Date.now() - INVITATION_TTL_MS - 60 * 60_000), sender },
    ));
  } finally {
    await sender.close();
    await db.close();
  }
  server = await startServer({
    dataDir,
    port: server.port,
    env: { SMTP_URL: smtp.url, REDIS_URL: undefined, RATE_LIMIT_STORE: undefined },
    readyTimeoutMs: 240_000,
  });

  const page = await newPage(browser);
  await page.goto(`/invite/${token}`);
  await expect(page.getByTestId("invitation-problem")).toContainText("expired");
  await expect(page.getByTestId("accept-invitation")).toHaveCount(0);
  await expect(page.getByTestId("decline-invitation")).toHaveCount(0);

  // The owner sees it expired and sends a new link; the old one stops naming anything.
  await ownerPage.goto(`/${slug}/settings`);
  const row = ownerPage.getByTestId("invitation-row").filter({ hasText: late });
  await expect(row).toContainText("expired");
  await row.getByRole("button", { name: `Resend the invitation to ${late}` }).click();
  expect(tokenOf(linkIn((await smtp.waitFor(late)).text, "/invite/"))).toBe(token);
  const fresh = await mailedLink(late, /invited/, "/invite/", 1);
  expect(tokenOf(`http://x${fresh}`)).not.toBe(token);
  await page.goto(`/invite/${token}`);
  await expect(page.getByTestId("invitation-problem")).toContainText("not valid");
  await page.goto(fresh);
  await expect(page.getByTestId("invitation-sign-in")).toBeVisible();
  await page.context().close();
});
