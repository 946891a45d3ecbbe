// Accessibility of every page and every key dialog, in light and dark: axe-core (WCAG 2.1 A and
// AA rules) finds no serious or critical violation. The signed-in pages are the seeded demo
// organization's (keys, 30 days of usage, audit entries), seen by an owner the CLI adds to it.
// /docs is checked by its own spec. Also: the app's icon is served.
import { spawnSync } from "node:child_process";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { type Browser, expect, type Locator, type Page, test } from "@playwright/test";
import { linkIn, readOutbox } from "@/tests/helpers/mail";

// Generous: each check runs axe twice on a shared, busy machine.
test.describe.configure({ mode: "serial", timeout: 480_000 });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const DEMO = "demo";
const owner = {
  email: `axe-${RUN}@example.test`,
  password: "correct horse battery staple",
  name: "Axe Owner",
};
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/cli.ts", ...args, "--json"], {
    env: {
      ...process.env,
      KEYWARD_DATA_DIR: process.env.KEYWARD_E2E_DATA,
      DATABASE_URL: "",
      REDIS_URL: "",
    },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`cli failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Waits for the CSS transitions a scheme change starts (infinite ones, e.g. a pulse, excepted). */
async function settle(page: Page) {
  await page.evaluate(async () => {
    const finite = document
      .getAnimations()
      .filter((a) => a.effect?.getComputedTiming().endTime !== Number.POSITIVE_INFINITY);
    await Promise.all(finite.map((a) => a.finished.catch(() => undefined)));
  });
}

/** Runs axe on the page as it is now, light then dark; fails listing every serious/critical. */
async function expectAccessible(page: Page, what: string) {
  const started = Date.now();
  const failures: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    await settle(page);
    // Legacy mode runs axe in the page itself instead of opening a blank page to merge frame
    // results (twice as fast here); the app's pages have no frames.
    const { violations } = await new AxeBuilder({ page })
      .withTags(TAGS)
      .setLegacyMode(true)
      .analyze();
    for (const v of violations) {
      if (v.impact !== "serious" && v.impact !== "critical") continue;
      const nodes = v.nodes
        .slice(0, 5)
        .map((n) => `    ${n.target.join(" ")}: ${n.failureSummary?.replaceAll("\n", " ")}`);
      failures.push(
        `${what} (${colorScheme}): ${v.id} [${v.impact}] ${v.help}\n${nodes.join("\n")}`,
      );
    }
  }
  await page.emulateMedia({ colorScheme: null });
  if (process.env.KEYWARD_E2E_A11Y_LOG) console.log(`${what}: ${Date.now() - started} ms`);
  expect(failures, failures.join("\n")).toEqual([]);
}

async function newPage(browser: Browser, baseURL: string | undefined): Promise<Page> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  return context.newPage();
}

/** The path of the link in the newest mail to `to` whose subject matches. */
async function outboxLink(to: string, subject: RegExp, prefix: string): Promise<string> {
  const dir = path.join(process.env.KEYWARD_E2E_DATA ?? "", "outbox");
  await expect
    .poll(async () => (await readOutbox(dir)).some((m) => m.to === to && subject.test(m.subject)))
    .toBe(true);
  const mail = (await readOutbox(dir)).filter((m) => m.to === to && subject.test(m.subject)).at(-1);
  return new URL(linkIn(mail?.text ?? "", prefix)).pathname;
}

/** The open dialog with this test id (dialogs stay in the DOM, closed, once rendered). */
function openDialog(page: Page, testId: string): Locator {
  return page.locator(`dialog[open][data-testid="${testId}"]`);
}

let page: Page;
let anonymous: Page;

test.beforeAll(async ({ browser, baseURL }) => {
  cli(
    "user:create",
    ...["--email", owner.email, "--password", owner.password, "--org", DEMO],
    ...["--role", "OWNER", "--name", owner.name],
  );
  anonymous = await newPage(browser, baseURL);
  page = await newPage(browser, baseURL);
});

test.afterAll(async () => {
  await anonymous?.context().close();
  await page?.context().close();
});

test("the app's icon is served: SVG, PNG fallback, favicon.ico and apple-touch icon", async ({
  request,
}) => {
  await anonymous.goto("/login");
  const links = anonymous.locator('head link[rel="icon"], head link[rel="apple-touch-icon"]');
  const hrefs = await links.evaluateAll((els) => els.map((e) => e.getAttribute("href") ?? ""));
  expect(hrefs.length).toBeGreaterThanOrEqual(3);
  for (const href of [...hrefs, "/favicon.ico"]) {
    const response = await request.get(href);
    expect(response.status(), href).toBe(200);
    expect(response.headers()["content-type"], href).toMatch(/^image\//);
    expect((await response.body()).length, href).toBeGreaterThan(100);
  }
});

test("public pages: home, sign-in, sign-up (with their errors) and not-found", async () => {
  const p = anonymous;
  await p.goto("/");
  await expect(p.getByRole("heading", { name: "Keyward" })).toBeVisible();
  await expectAccessible(p, "home");

  await p.goto("/login");
  await expectAccessible(p, "sign-in");
  await p.locator("#email").fill(`nobody-${RUN}@example.test`);
  await p.locator("#password").fill("not the password at all");
  await p.getByRole("button", { name: "Sign in" }).click();
  await expect(p.getByTestId("form-message")).toBeVisible();
  await expectAccessible(p, "sign-in, wrong password");

  await p.goto("/signup");
  await expectAccessible(p, "sign-up");
  await p.locator("#password").fill("short");
  await p.getByRole("button", { name: "Create account" }).click();
  await expect(p.getByTestId("password-error")).toBeVisible();
  await expectAccessible(p, "sign-up, field errors");

  const missing = await p.goto(`/no-such-page-${RUN}/deeper`);
  expect(missing?.status()).toBe(404);
  await expectAccessible(p, "not-found");
});

test("sign-in lands on the dashboard; the keys, key, usage and audit pages of the demo", async () => {
  await page.goto("/login");
  await page.locator("#email").fill(owner.email);
  await page.locator("#password").fill(owner.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);

  await page.goto("/dashboard");
  await page.waitForURL(/\/keys$/);
  await expectAccessible(page, "dashboard");

  await page.goto(`/${DEMO}`);
  await page.waitForURL(new RegExp(`/${DEMO}/keys$`));
  await expect(page.getByTestId("key-row").first()).toBeVisible();
  await expectAccessible(page, "organization overview / keys list");

  await page.goto(`/${DEMO}/keys?status=revoked`);
  await expect(page.getByTestId("key-row").first()).toBeVisible();
  await expectAccessible(page, "keys list, revoked filter");

  const revokedId = (await page.getByTestId("key-row").first().getAttribute("data-key-id")) ?? "";
  await page.goto(`/${DEMO}/keys/${revokedId}`);
  await expect(page.getByTestId("key-name")).toBeVisible();
  await expectAccessible(page, "key detail (revoked key)");

  await page.goto(`/${DEMO}/usage?range=30d`);
  await expect(page.getByTestId("chart-requests").locator(".recharts-wrapper > svg")).toBeVisible();
  await expectAccessible(page, "usage");

  await page.goto(`/${DEMO}/audit`);
  await expect(page.getByTestId("audit-row").first()).toBeVisible();
  await expectAccessible(page, "audit");
});

test("settings (with a field error), a new organization and not-found, signed in", async () => {
  await page.goto(`/${DEMO}/settings`);
  await expectAccessible(page, "settings");
  await page.locator("#member-email").fill(`not-an-email-${RUN}`);
  await page.getByTestId("invite").click();
  await expect(page.getByTestId("member-email-error")).toBeVisible();
  await expectAccessible(page, "settings, field error");

  await page.goto("/organizations/new");
  await expectAccessible(page, "organizations/new");

  await page.goto(`/${DEMO}/keys/no-such-key-${RUN}`);
  await expectAccessible(page, "key not found");
  await page.goto(`/no-such-org-${RUN}`);
  await expectAccessible(page, "organization not found");
});

test("the key dialogs: create (with errors), the shown-once secret, edit, rotate, revoke", async () => {
  await page.goto(`/${DEMO}/keys`);
  await page.getByTestId("create-key").first().click();
  const create = openDialog(page, "create-key-dialog");
  await expect(create).toBeVisible();
  await expectAccessible(page, "create dialog");

  await create.getByTestId("create-key-submit").click();
  await expect(create.getByTestId("key-name-error")).toBeVisible();
  await expectAccessible(page, "create dialog, field errors");

  const name = `axe ${RUN}`;
  await create.locator("#key-name").fill(name);
  await create.getByTestId("create-key-submit").click();
  await expect(create.getByTestId("key-secret")).toBeVisible();
  await expectAccessible(page, "shown-once secret");
  await create.getByTestId("copy-key").click();
  await expect(create.getByTestId("copy-key")).toHaveAccessibleName("Copied");
  await create.getByTestId("key-done").click();
  await expect(create).toBeHidden();

  const row = page.getByTestId("key-row").filter({ hasText: name });
  const id = (await row.getAttribute("data-key-id")) ?? "";
  await page.goto(`/${DEMO}/keys/${id}`);
  await expectAccessible(page, "key detail (active key)");
  await page.getByTestId("edit-key").click();
  const edit = openDialog(page, "edit-key-dialog");
  await expect(edit).toBeVisible();
  await expectAccessible(page, "edit dialog");
  await edit.locator("#edit-key-rate-limit").fill("0");
  await edit.getByTestId("edit-key-submit").click();
  await expect(edit.getByTestId("edit-key-rate-limit-error")).toBeVisible();
  await expectAccessible(page, "edit dialog, field error");
  await page.keyboard.press("Escape");
  await expect(edit).toBeHidden();

  await page.goto(`/${DEMO}/keys`);
  await page.getByTestId(`rotate-${id}`).click();
  const rotate = openDialog(page, "rotate-key-dialog");
  await expect(rotate).toBeVisible();
  await expectAccessible(page, "rotate dialog");
  await rotate.getByTestId("rotate-submit").click();
  await expect(rotate.getByTestId("key-secret")).toBeVisible();
  await expectAccessible(page, "rotate dialog, new secret");
  await rotate.getByTestId("copy-key").click();
  await rotate.getByTestId("key-done").click();
  await expect(rotate).toBeHidden();

  const rotated = page.getByTestId("key-row").filter({ hasText: name }).first();
  const rotatedId = (await rotated.getAttribute("data-key-id")) ?? "";
  await page.getByTestId(`revoke-${rotatedId}`).click();
  const revoke = openDialog(page, "revoke-key-dialog");
  await expect(revoke).toBeVisible();
  await expectAccessible(page, "revoke dialog");
  await revoke.getByTestId("revoke-submit").click();
  await expect(revoke.getByTestId("revoke-confirm-error")).toBeVisible();
  await expectAccessible(page, "revoke dialog, confirm error");
});

test("verify-email and invitation pages (links from the outbox), and the unverified banner", async ({
  browser,
  baseURL,
}) => {
  const newcomer = {
    email: `axe-new-${RUN}@example.test`,
    password: "another long passphrase here",
  };
  const fresh = await newPage(browser, baseURL);
  await fresh.goto("/signup");
  await fresh.locator("#name").fill("Newcomer");
  await fresh.locator("#email").fill(newcomer.email);
  await fresh.locator("#password").fill(newcomer.password);
  await fresh.locator("#organizationName").fill(`Axe Co ${RUN}`);
  await fresh.getByRole("button", { name: "Create account" }).click();
  await fresh.waitForURL(/\/[a-z0-9-]+\/keys$/);
  await expect(fresh.getByTestId("verify-banner")).toBeVisible();
  await expect(fresh.getByTestId("empty-state")).toBeVisible();
  await expectAccessible(fresh, "empty keys list, unverified banner");

  await page.goto(`/${DEMO}/settings`);
  await page.locator("#member-email").fill(newcomer.email);
  await page.getByTestId("invite").click();
  await expect(page.getByTestId("invitations-table")).toContainText(newcomer.email);
  await expectAccessible(page, "settings with an invitation");

  const invite = await outboxLink(newcomer.email, /invited/, "/invite/");
  await anonymous.goto(invite);
  await expect(anonymous.getByTestId("invitation-summary")).toBeVisible();
  await expectAccessible(anonymous, "invitation, signed out");
  await fresh.goto(invite);
  await expect(fresh.getByTestId("invitation-unverified")).toBeVisible();
  await expectAccessible(fresh, "invitation, unverified");
  await anonymous.goto(`/invite/not-a-real-token-${RUN}`);
  await expectAccessible(anonymous, "invitation, bad link");

  await fresh.goto(await outboxLink(newcomer.email, /Confirm/, "/verify-email/"));
  await expect(fresh.getByTestId("confirm-email")).toBeVisible();
  await expectAccessible(fresh, "verify-email");
  await fresh.getByTestId("confirm-email").click();
  await expect(fresh.getByTestId("confirm-outcome")).toContainText("is confirmed");
  await expectAccessible(fresh, "verify-email, confirmed");
  await fresh.goto(invite);
  await expect(fresh.getByTestId("accept-invitation")).toBeVisible();
  await expectAccessible(fresh, "invitation, ready to accept");
  await anonymous.goto(`/verify-email/not-a-real-token-${RUN}`);
  await expectAccessible(anonymous, "verify-email, bad link");
  await fresh.context().close();
});
