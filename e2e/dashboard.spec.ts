// The dashboard, end to end in Chromium: sign-up, the copy-once key dialog, using the key over
// HTTP, revocation and rotation, usage charts, roles enforced on the server, organizations kept
// apart, field errors, and sign-in throttling. One admin and one viewer per run; each test builds
// on the state the previous ones left (serial).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type APIRequestContext, type Browser, expect, type Page, test } from "@playwright/test";
import { linkIn, readOutbox } from "@/tests/helpers/mail";

test.describe.configure({ mode: "serial" });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const KEY_RE = /^pk_(live|test)_[A-Za-z0-9_-]{43}$/;
const SHOTS = path.join(import.meta.dirname, "screenshots");
mkdirSync(SHOTS, { recursive: true });

const admin = {
  name: "Ada Admin",
  email: `ada-${RUN}@example.test`,
  password: "correct horse battery staple",
  org: `Acme ${RUN}`,
};
const viewer = {
  name: "Vic Viewer",
  email: `vic-${RUN}@example.test`,
  password: "another long passphrase here",
  org: `Viewer Co ${RUN}`,
};

// Filled in as the flows run.
const state: {
  slugA?: string;
  slugB?: string;
  firstKey?: string;
  firstKeyId?: string;
  writerKey?: string;
  keyInB?: string;
  keyInBSecret?: string;
  createAction?: CapturedAction;
  revokeAction?: CapturedAction;
  updateAction?: CapturedAction;
  rotateAction?: CapturedAction;
  rotatedId?: string;
  provisionerKey?: string;
  provisionerId?: string;
} = {};

interface CapturedAction {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

let adminPage: Page;

/**
 * The server here has no SMTP_URL: mail lands in its outbox folder. The path of the link in the
 * newest mail to `to` whose subject matches.
 */
async function outboxLink(to: string, subject: RegExp, prefix: string): Promise<string> {
  const dir = path.join(process.env.KEYWARD_E2E_DATA ?? "", "outbox");
  await expect
    .poll(async () => (await readOutbox(dir)).some((m) => m.to === to && subject.test(m.subject)))
    .toBe(true);
  const mail = (await readOutbox(dir)).filter((m) => m.to === to && subject.test(m.subject)).at(-1);
  return new URL(linkIn(mail?.text ?? "", prefix)).pathname;
}

async function signUp(page: Page, who: typeof admin): Promise<string> {
  await page.goto("/signup");
  await page.locator("#name").fill(who.name);
  await page.locator("#email").fill(who.email);
  await page.locator("#password").fill(who.password);
  await page.locator("#organizationName").fill(who.org);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);
  return new URL(page.url()).pathname.split("/")[1];
}

/** Records the server action POSTs a page sends, so a test can replay one as someone else. */
function captureActions(page: Page, sink: (a: CapturedAction, text: string) => void) {
  page.on("request", (req) => {
    const headers = req.headers();
    if (req.method() !== "POST" || !headers["next-action"]) return;
    const body = req.postDataBuffer();
    if (!body) return;
    sink({ url: req.url(), headers, body }, body.toString("utf8"));
  });
}

/** The open create dialog, as a locator that stays valid after it closes. */
async function openCreateDialog(page: Page) {
  await page.getByTestId("create-key").first().click();
  const open = page.locator('dialog[open][data-testid="create-key-dialog"]');
  await expect(open).toBeVisible();
  const labelledBy = await open.getAttribute("aria-labelledby");
  return page.locator(`dialog[aria-labelledby="${labelledBy}"]`);
}

async function createKey(
  page: Page,
  opts: { name: string; environment?: "live" | "test"; scopes?: string[] },
): Promise<{ key: string; id: string }> {
  const dialog = await openCreateDialog(page);
  await dialog.locator("#key-name").fill(opts.name);
  if (opts.environment) await dialog.locator("#key-environment").selectOption(opts.environment);
  if (opts.scopes) {
    for (const box of await dialog.locator('input[name="scopes"]').all()) {
      const value = await box.getAttribute("value");
      await box.setChecked(opts.scopes.includes(value ?? ""));
    }
  }
  await dialog.getByTestId("create-key-submit").click();
  const secret = dialog.getByTestId("key-secret");
  await expect(secret).toBeVisible();
  const key = (await secret.textContent())?.trim() ?? "";
  expect(key).toMatch(KEY_RE);
  await dialog.getByTestId("copy-key").click();
  await expect(dialog.getByTestId("copy-key")).toHaveAccessibleName("Copied");
  await dialog.getByTestId("key-done").click();
  await expect(dialog).toBeHidden();
  const row = page.getByTestId("key-row").filter({ hasText: opts.name });
  await expect(row).toBeVisible();
  const id = (await row.getAttribute("data-key-id")) ?? "";
  return { key, id };
}

/**
 * A whole-page screenshot taken at a viewport as tall as the page: Playwright's fullPage capture
 * resizes the page mid-capture, and the charts (ResizeObserver) redraw half-way through it.
 */
async function pageShot(page: Page, name: string) {
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.waitForTimeout(700);
  await page.screenshot({ path: path.join(SHOTS, name) });
  await page.setViewportSize(size);
}

async function me(request: APIRequestContext, key: string) {
  return request.get("/api/v1/me", { headers: { Authorization: `Bearer ${key}` } });
}

async function newSignedInPage(browser: Browser, baseURL: string | undefined) {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  return context.newPage();
}

test.beforeAll(async ({ browser, baseURL }) => {
  adminPage = await newSignedInPage(browser, baseURL);
  captureActions(adminPage, (a, text) => {
    if (text.includes("expiresAtShown")) state.updateAction = a;
    else if (text.includes("environment")) state.createAction = a;
    if (text.includes("reason")) state.revokeAction = a;
    if (text.includes("gracePeriod")) state.rotateAction = a;
  });
});

test.afterAll(async () => {
  await adminPage?.context().close();
});

test("a bad sign-up shows its field error, a good one lands on an empty keys page", async () => {
  const page = adminPage;
  await page.goto("/signup");
  await page.locator("#name").fill(admin.name);
  await page.locator("#email").fill(admin.email);
  await page.locator("#password").fill("short");
  await page.locator("#organizationName").fill(admin.org);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("password-error")).toContainText("at least 10 characters");
  // The other fields keep what was typed; the password never comes back.
  await expect(page.locator("#email")).toHaveValue(admin.email);
  await expect(page.locator("#password")).toHaveValue("");

  state.slugA = await signUp(page, admin);
  expect(page.url()).not.toContain(admin.password);
  await expect(page.getByRole("heading", { name: "API keys" })).toBeVisible();
  await expect(page.getByTestId("empty-state")).toContainText("No keys yet");
  await expect(page.getByTestId("role-badge")).toHaveText("owner");
});

test("the create dialog shows field errors and asks before discarding an uncopied key", async () => {
  const page = adminPage;
  const dialog = await openCreateDialog(page);
  await dialog.getByTestId("create-key-submit").click();
  await expect(dialog.getByTestId("key-name-error")).toContainText("Name the key");

  // An admin is bounded by the plan: a sign-up's organization is on FREE, 60 per minute.
  await dialog.locator("#key-name").fill("discard-check");
  await dialog.locator("#key-rate-limit").fill("61");
  await dialog.getByTestId("create-key-submit").click();
  await expect(dialog.getByTestId("key-rate-limit-error")).toContainText(
    "At most 60 requests per minute",
  );
  await expect(dialog.locator("#key-name")).toHaveValue("discard-check");
  await expect(dialog.locator("#key-rate-limit")).toHaveValue("61");
  await dialog.locator("#key-rate-limit").fill("");
  await dialog.getByTestId("create-key-submit").click();
  await expect(dialog.getByTestId("key-secret")).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, "create-dialog-key-1280.png") });

  // Esc while the key is uncopied: the dialog asks, and "cancel" keeps it open.
  let asked = "";
  page.once("dialog", (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.keyboard.press("Escape");
  await expect.poll(() => asked).toContain("not copied");
  await expect(dialog.getByTestId("key-secret")).toBeVisible();

  // Asked again, accepted: closes, and the key is gone from the page.
  page.once("dialog", (d) => void d.accept());
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("create-key").first()).toBeFocused();
});

test("a new key is shown once, works against the API, and never appears again", async ({
  request,
}) => {
  const page = adminPage;
  const { key, id } = await createKey(page, {
    name: "billing-service",
    scopes: ["keys:read", "usage:read"],
  });
  state.firstKey = key;
  state.firstKeyId = id;

  const res = await me(request, key);
  expect(res.status()).toBe(200);
  expect(JSON.stringify(await res.json())).toContain("billing-service");

  const check = async () => {
    expect(await page.content()).not.toContain(key);
    expect(await page.locator("body").textContent()).not.toContain(key);
    expect(page.url()).not.toContain(key);
    const cookies = await page.context().cookies();
    expect(JSON.stringify(cookies)).not.toContain(key);
  };
  await check();
  await page.reload();
  await check();
  await page.goto(`/${state.slugA}/keys/${id}`);
  await expect(page.getByTestId("key-name")).toHaveText("billing-service");
  await check();
  // The masked form is what remains.
  await expect(page.getByText(`${key.slice(0, 8)}…${key.slice(-4)}`)).toBeVisible();
});

test("a revoked key answers 401", async ({ request }) => {
  const page = adminPage;
  await page.goto(`/${state.slugA}/keys`);
  const row = page.locator(`[data-key-id="${state.firstKeyId}"]`);
  await row.getByTestId(`revoke-${state.firstKeyId}`).click();
  const dialog = row.getByTestId("revoke-key-dialog");
  await dialog.getByTestId("revoke-submit").click();
  await expect(dialog.locator("[data-testid=revoke-reason-error]")).toBeVisible();
  await expect(dialog.getByTestId("revoke-confirm-error")).toBeVisible();
  await dialog.locator("#revoke-reason").fill("Leaked in a log file");
  await dialog.locator("#revoke-confirm").check();
  await dialog.getByTestId("revoke-submit").click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId("key-status")).toHaveText("revoked");

  const res = await me(request, state.firstKey!);
  expect(res.status()).toBe(401);
});

test("rotation with a grace period: new key shown once, old key works until the grace ends", async ({
  request,
}) => {
  const page = adminPage;
  const writer = await createKey(page, {
    name: "ingest-worker",
    scopes: ["usage:read", "usage:write"],
  });
  state.rotatedId = writer.id;
  const oldRow = page.locator(`[data-key-id="${writer.id}"]`);
  await oldRow.getByTestId(`rotate-${writer.id}`).click();
  const dialog = oldRow.getByTestId("rotate-key-dialog");
  await dialog.locator('input[name="gracePeriod"][value="1h"]').check();
  await dialog.getByTestId("rotate-submit").click();
  const secret = dialog.getByTestId("key-secret");
  await expect(secret).toBeVisible();
  const rotated = (await secret.textContent())?.trim() ?? "";
  expect(rotated).toMatch(KEY_RE);
  expect(rotated).not.toBe(writer.key);
  await dialog.getByTestId("copy-key").click();
  await dialog.getByTestId("key-done").click();
  await expect(dialog).toBeHidden();
  expect(await page.content()).not.toContain(rotated);

  expect((await me(request, rotated)).status()).toBe(200);
  expect((await me(request, writer.key)).status()).toBe(200); // inside the 1 h grace period
  // The old row now has an expiry and no rotate button.
  await expect(oldRow.getByTestId("key-expires")).not.toHaveText("Never");
  await expect(page.getByTestId(`rotate-${writer.id}`)).toHaveCount(0);
  state.writerKey = rotated;
});

test("the usage page charts usage reported through the API", async ({ request }) => {
  const now = Date.now();
  const events = [];
  const endpoints = ["/v1/completions", "/v1/embeddings", "/v1/search"];
  for (let day = 0; day < 12; day++) {
    for (let i = 0; i < 25; i++) {
      const status = i % 11 === 0 ? 500 : i % 7 === 0 ? 404 : i % 13 === 0 ? 302 : 200;
      events.push({
        endpoint: endpoints[i % endpoints.length],
        method: i % 2 ? "POST" : "GET",
        statusCode: status,
        responseTimeMs: 20 + ((i * 37 + day * 11) % 180),
        tokens: 100 + i * 13,
        costUsd: (0.0004 * (i + 1)).toFixed(6),
        occurredAt: new Date(now - day * 86_400_000 - i * 60_000).toISOString(),
      });
    }
  }
  const res = await request.post("/api/v1/usage/events", {
    headers: { Authorization: `Bearer ${state.writerKey}` },
    data: { events },
  });
  expect(res.status()).toBeLessThan(300);

  const page = adminPage;
  // Usage is written off the request path, in batches: wait for it to land.
  await expect
    .poll(
      async () => {
        await page.goto(`/${state.slugA}/usage?range=30d`);
        return (await page.getByTestId("endpoint-table").count())
          ? page.getByTestId("endpoint-table").textContent()
          : "";
      },
      { timeout: 30_000, intervals: [1000, 2000, 3000] },
    )
    .toContain("/v1/completions");
  for (const chart of [
    "chart-requests",
    "chart-errors",
    "chart-latency",
    "chart-tokens",
    "chart-cost",
  ]) {
    await expect(page.getByTestId(chart).locator(".recharts-wrapper > svg")).toBeVisible();
  }
  await expect(
    page.getByTestId("chart-requests").locator(".recharts-bar-rectangle").first(),
  ).toBeVisible();
  await expect(page.getByTestId("chart-latency").locator(".recharts-line-curve")).toHaveCount(2);
  await expect(page.getByTestId("endpoint-table")).toContainText("/v1/completions");
  await expect(page.getByTestId("top-keys-table")).toContainText("ingest-worker");

  // The CSV export has the same days, and needs the session.
  const csv = await page.request.get(`/${state.slugA}/usage/export?range=30d`);
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  const text = await csv.text();
  expect(text.split("\r\n")[0]).toBe(
    "date,requests,status_2xx,status_3xx,status_4xx,status_5xx,errors,p50_latency_ms,p95_latency_ms,tokens,cost_usd",
  );
  expect(text).toContain("/v1/completions");
  const anonymous = await request.get(`/${state.slugA}/usage/export?range=30d`);
  expect(anonymous.status()).toBe(401);
});

test("an admin edits a key's name, scopes, rate limit and expiry; the API and the audit log agree", async ({
  request,
}) => {
  // Four submits, the API and the audit page: past 60 s on a loaded machine.
  test.slow();
  const page = adminPage;
  await page.goto(`/${state.slugA}/keys`);
  const { key, id } = await createKey(page, {
    name: "provisioner",
    scopes: ["keys:read", "keys:write"],
  });
  state.provisionerKey = key;
  state.provisionerId = id;
  await page.goto(`/${state.slugA}/keys/${id}`);
  await page.getByTestId("edit-key").click();
  const dialog = page.getByTestId("edit-key-dialog");
  await expect(dialog.locator("#edit-key-name")).toHaveValue("provisioner");
  await expect(dialog.locator("#scope-keys\\:write")).toBeChecked();

  // A field error keeps the dialog open with what was typed.
  await dialog.locator("#edit-key-rate-limit").fill("0");
  await dialog.getByTestId("edit-key-submit").click();
  await expect(dialog.getByTestId("edit-key-rate-limit-error")).toContainText("Between 1 and");
  // Above the plan's limit (FREE: 60 per minute): a field error naming the limit.
  await dialog.locator("#edit-key-rate-limit").fill("1000");
  await dialog.getByTestId("edit-key-submit").click();
  await expect(dialog.getByTestId("edit-key-rate-limit-error")).toContainText(
    "At most 60 requests per minute: the organization's plan limit.",
  );

  const expiry = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  await dialog.locator("#edit-key-name").fill("provisioner-2");
  await dialog.locator("#scope-usage\\:read").check();
  // Just under the plan's 60: the API must show the key's own limit, and the pagination flow
  // below spends 49 requests a minute with this key.
  await dialog.locator("#edit-key-rate-limit").fill("59");
  await dialog.locator("#edit-key-expires").fill(expiry);
  await dialog.getByTestId("edit-key-submit").click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("key-name")).toHaveText("provisioner-2");
  const facts = page.getByTestId("key-facts");
  await expect(facts).toContainText("59 / min");
  await expect(facts).toContainText("usage:read");
  const expires = facts
    .locator("dl > div")
    .filter({ has: page.locator("dt", { hasText: "Expires" }) });
  await expect(expires.locator("dd")).toContainText("23:59 UTC");

  // The key itself is unchanged, and the API sees the new name, scopes and limit at once.
  const res = await me(request, key);
  expect(res.status()).toBe(200);
  expect(res.headers()["ratelimit-limit"]).toBe("59");
  const body = JSON.stringify(await res.json());
  expect(body).toContain("provisioner-2");
  expect(body).toContain("usage:read");

  // Saving again without a change writes no second audit entry.
  await page.getByTestId("edit-key").click();
  await page.getByTestId("edit-key-dialog").getByTestId("edit-key-submit").click();
  await expect(page.getByTestId("edit-key-dialog")).toBeHidden();

  await page.goto(`/${state.slugA}/audit?action=key.updated`);
  const rows = page.getByTestId("audit-row");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("provisioner-2");
  await expect(rows.first()).toContainText(admin.email);
  for (const field of ["name", "scopes", "rateLimitPerMinute", "expiresAt"]) {
    await expect(rows.first()).toContainText(field);
  }
});

test("a viewer sees keys but cannot create or revoke, even with a hand-sent action", async ({
  browser,
  baseURL,
}) => {
  test.setTimeout(150_000); // two sign-ups' worth of work: confirm, invite, accept, replay
  const page = adminPage;
  await page.goto(`/${state.slugA}/settings`);
  await page.locator("#member-email").fill(`not-an-email-${RUN}`);
  await page.getByTestId("invite").click();
  await expect(page.getByTestId("member-email-error")).toContainText("Enter an email address");

  const viewerPage = await newSignedInPage(browser, baseURL);
  state.slugB = await signUp(viewerPage, viewer);
  const inB = await createKey(viewerPage, { name: "b-only-key" });
  state.keyInB = inB.id;
  state.keyInBSecret = inB.key;

  // Members join by invitation, accepted with a confirmed email (links from the outbox).
  await page.locator("#member-email").fill(viewer.email);
  await page.locator("#member-role").selectOption("VIEWER");
  await page.getByTestId("invite").click();
  await expect(page.getByTestId("invitations-table")).toContainText(viewer.email);
  await viewerPage.goto(await outboxLink(viewer.email, /Confirm/, "/verify-email/"));
  await viewerPage.getByTestId("confirm-email").click();
  await expect(viewerPage.getByTestId("confirm-outcome")).toContainText("is confirmed");
  await viewerPage.goto(await outboxLink(viewer.email, /invited/, "/invite/"));
  await viewerPage.getByTestId("accept-invitation").click();
  await viewerPage.waitForURL(new RegExp(`/${state.slugA}/keys$`));
  await page.reload();
  await expect(page.getByTestId("members-table")).toContainText(viewer.email);

  await viewerPage.goto(`/${state.slugA}/keys`);
  await expect(viewerPage.getByTestId("role-badge")).toHaveText("viewer");
  await expect(viewerPage.getByTestId("keys-table")).toContainText("ingest-worker");
  await expect(viewerPage.getByTestId("create-key")).toHaveCount(0);
  await expect(viewerPage.locator('[data-testid^="revoke-"]')).toHaveCount(0);
  await expect(viewerPage.locator('[data-testid^="rotate-"]')).toHaveCount(0);
  const rowsBefore = await viewerPage.getByTestId("key-row").count();
  await viewerPage.goto(`/${state.slugA}/keys/${state.provisionerId}`);
  await expect(viewerPage.getByTestId("key-name")).toHaveText("provisioner-2");
  await expect(viewerPage.getByTestId("edit-key")).toHaveCount(0);
  await viewerPage.goto(`/${state.slugA}/keys`);

  // Replay the admin's own create, revoke and edit action requests with the viewer's session.
  for (const captured of [state.createAction, state.revokeAction, state.updateAction]) {
    expect(captured).toBeDefined();
    const res = await viewerPage.request.post(captured!.url, {
      headers: {
        "next-action": captured!.headers["next-action"],
        "content-type": captured!.headers["content-type"],
        accept: "text/x-component",
        origin: new URL(captured!.url).origin,
      },
      data: captured!.body,
    });
    expect(await res.text()).toContain("Your role cannot do this");
  }
  await viewerPage.reload();
  await expect(viewerPage.getByTestId("key-row")).toHaveCount(rowsBefore);
  await viewerPage.context().close();
});

test("a member of one organization gets not-found for another's pages by URL", async () => {
  const page = adminPage;
  for (const url of [
    `/${state.slugB}/keys`,
    `/${state.slugB}/keys/${state.keyInB}`,
    `/${state.slugB}/usage`,
    `/${state.slugB}/settings`,
    `/${state.slugA}/keys/${state.keyInB}`,
    `/no-such-org-${RUN}/keys`,
  ]) {
    const res = await page.goto(url);
    expect(res?.status(), url).toBe(404);
    await expect(page.getByTestId("not-found")).toBeVisible();
    expect(await page.content()).not.toContain("b-only-key");
  }
  const csv = await page.request.get(`/${state.slugB}/usage/export?range=7d`);
  expect(csv.status()).toBe(404);
});

test("an admin of one organization cannot revoke, edit or rotate another's key with a hand-sent action", async ({
  request,
}) => {
  const page = adminPage;
  const before = await (await me(request, state.keyInBSecret!)).json();
  expect(before.name).toBe("b-only-key");
  // The admin's own revoke and edit requests, aimed at B's key: once through the admin's own
  // organization (where the key does not exist), once naming B (where the admin is no member).
  const forged = [
    { action: state.revokeAction!, from: state.firstKeyId! },
    { action: state.updateAction!, from: state.provisionerId! },
    { action: state.rotateAction!, from: state.rotatedId! },
  ];
  for (const { action, from } of forged) {
    for (const org of [state.slugA!, state.slugB!]) {
      const body = Buffer.from(
        action.body.toString("utf8").replaceAll(from, state.keyInB!).replaceAll(state.slugA!, org),
      );
      const res = await page.request.post(action.url, {
        headers: {
          "next-action": action.headers["next-action"],
          "content-type": action.headers["content-type"],
          accept: "text/x-component",
          origin: new URL(action.url).origin,
        },
        data: body,
      });
      expect(res.status()).toBeLessThan(500);
      // The action ran and refused: "The key does not exist." in A, "Not found." for B.
      const text = await res.text();
      expect(text).toContain('"ok":false');
      expect(text).toMatch(/does not exist|Not found/);
    }
  }
  // B's key is untouched: still valid, same name, limit and scopes.
  const after = await me(request, state.keyInBSecret!);
  expect(after.status()).toBe(200);
  const now = await after.json();
  expect({ name: now.name, scopes: now.scopes, limits: now.limits }).toEqual({
    name: before.name,
    scopes: before.scopes,
    limits: before.limits,
  });
});

test("the audit log records who did what to which key", async () => {
  const page = adminPage;
  await page.goto(`/${state.slugA}/audit`);
  const table = page.getByTestId("audit-table");
  await expect(table).toContainText("key.revoked");
  await expect(table).toContainText("Leaked in a log file");
  await expect(table).toContainText("key.rotated");
  await expect(table).toContainText(admin.email);
  await page.getByLabel("Action").selectOption("key.revoked");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=key.revoked/);
  await expect(page.getByTestId("audit-row")).toHaveCount(1);
});

test("keys and the audit log page forward and back: Next, Previous, First page", async ({
  request,
}) => {
  // 24 more revoked keys (created and revoked through the API with the provisioner key, whose
  // limit is now 59 a minute), so the revoked list has two pages and the audit log three.
  const auth = { Authorization: `Bearer ${state.provisionerKey}` };
  for (let i = 0; i < 24; i++) {
    const created = await request.post("/api/v1/keys", {
      headers: auth,
      data: { name: `paged-${String(i).padStart(2, "0")}`, scopes: ["keys:read"] },
    });
    expect(created.status()).toBe(201);
    const { id } = await created.json();
    const revoked = await request.delete(`/api/v1/keys/${id}`, {
      headers: auth,
      data: { reason: "pagination fixture" },
    });
    expect(revoked.status()).toBe(200);
  }

  const page = adminPage;
  const firstRowId = () => page.getByTestId("key-row").first().getAttribute("data-key-id");
  await page.goto(`/${state.slugA}/keys?status=revoked`);
  await expect(page.getByTestId("key-row")).toHaveCount(20);
  await expect(page.getByTestId("page-summary")).toContainText("Page 1");
  await expect(page.getByTestId("previous-page")).toHaveAttribute("aria-disabled", "true");
  await expect(page.getByTestId("first-page")).toHaveCount(0);
  const pageOneFirst = await firstRowId();
  await page.getByTestId("next-page").click();
  await expect(page.getByTestId("page-summary")).toContainText("Page 2");
  await expect(page.getByTestId("key-row")).toHaveCount(5);
  await expect(page).toHaveURL(/status=revoked/);
  await expect(page.getByTestId("next-page")).toHaveAttribute("aria-disabled", "true");
  await page.getByTestId("previous-page").click();
  await expect(page.getByTestId("page-summary")).toContainText("Page 1");
  await expect(page.getByTestId("key-row")).toHaveCount(20);
  expect(await firstRowId()).toBe(pageOneFirst);
  expect(page.url()).not.toContain("cursor=");

  // The audit log: three pages of 25, and back the same way.
  await page.goto(`/${state.slugA}/audit`);
  const firstEntry = () => page.getByTestId("audit-row").first().textContent();
  const seen: Array<string | null> = [await firstEntry()];
  await expect(page.getByTestId("audit-row")).toHaveCount(25);
  for (const n of [2, 3]) {
    await page.getByTestId("next-page").click();
    await expect(page.getByTestId("page-summary")).toContainText(`Page ${n}`);
    seen.push(await firstEntry());
  }
  expect(new Set(seen).size).toBe(3);
  await page.getByTestId("previous-page").click();
  await expect(page.getByTestId("page-summary")).toContainText("Page 2");
  expect(await firstEntry()).toBe(seen[1]);
  await page.getByTestId("next-page").click();
  await expect(page.getByTestId("page-summary")).toContainText("Page 3");
  await page.getByTestId("first-page").click();
  await expect(page.getByTestId("page-summary")).toContainText("Page 1");
  expect(await firstEntry()).toBe(seen[0]);

  // The provisioner retires itself (the plan allows five active keys; later flows create two).
  const retired = await request.delete(`/api/v1/keys/${state.provisionerId}`, {
    headers: auth,
    data: { reason: "fixture done" },
  });
  expect(retired.status()).toBe(200);
});

test("at 1280 pixels the filters show their whole labels", async () => {
  const page = adminPage;
  await page.setViewportSize({ width: 1280, height: 800 });
  // A select is cut when it is narrower than its own content (its width with width: auto).
  const cut = (selector: string) =>
    page.locator(selector).evaluate((el: HTMLSelectElement) => {
      const actual = el.getBoundingClientRect().width;
      const saved = el.style.cssText;
      el.style.width = "auto";
      el.style.minWidth = "0";
      el.style.flex = "none";
      const natural = el.getBoundingClientRect().width;
      el.style.cssText = saved;
      return natural - actual;
    });
  await page.goto(`/${state.slugA}/keys`);
  for (const id of ["#key-env", "#key-status"]) {
    for (const option of await page.locator(`${id} option`).all()) {
      await page.locator(id).selectOption((await option.getAttribute("value")) ?? "");
      expect(await cut(id), `${id} ${await option.textContent()}`).toBeLessThanOrEqual(0.5);
    }
  }
  await page.goto(`/${state.slugA}/audit`);
  expect(await cut("#audit-action")).toBeLessThanOrEqual(0.5);
});

test("screenshots at 1280 and 390 pixels", async () => {
  const page = adminPage;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    await page.goto(`/${state.slugA}/keys`);
    await expect(page.getByTestId("keys-table")).toBeVisible();
    await pageShot(page, `keys-${width}.png`);

    // The paging fixtures are newer: find the busy key by name.
    await page.goto(`/${state.slugA}/keys?q=ingest-worker`);
    const id = await page
      .getByTestId("key-row")
      .filter({ hasText: "ingest-worker" })
      .first()
      .getAttribute("data-key-id");
    await page.goto(`/${state.slugA}/keys/${id}?range=30d`);
    await expect(page.getByTestId("stat-tiles")).toBeVisible();
    await pageShot(page, `key-detail-${width}.png`);

    await page.goto(`/${state.slugA}/usage?range=30d`);
    await expect(
      page.getByTestId("chart-requests").locator(".recharts-bar-rectangle").first(),
    ).toBeVisible();
    await pageShot(page, `usage-${width}.png`);

    await page.goto(`/${state.slugA}/keys`);
    const dialog = await openCreateDialog(page);
    await dialog.locator("#key-name").fill(`screenshot-${width}`);
    await dialog.locator("#key-environment").selectOption("test");
    await dialog.getByTestId("create-key-submit").click();
    await expect(dialog.getByTestId("key-secret")).toBeVisible();
    await page.screenshot({ path: path.join(SHOTS, `create-dialog-key-${width}.png`) });
    await dialog.getByTestId("copy-key").click();
    await dialog.getByTestId("key-done").click();
    await expect(dialog).toBeHidden();
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("failed sign-ins are throttled per email with a clear message", async ({
  browser,
  baseURL,
}) => {
  const page = await newSignedInPage(browser, baseURL);
  const email = `nobody-${RUN}@example.test`;
  for (let i = 0; i < 5; i++) {
    await page.goto("/login");
    await page.locator("#email").fill(email);
    await page.locator("#password").fill(`wrong-password-${i}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("form-message")).toHaveText("Wrong email or password.");
    expect(page.url()).not.toContain("wrong-password");
  }
  await page.locator("#password").fill("wrong-password-again");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("form-message")).toContainText("Too many failed sign-ins");

  // The right password for another account still works from the same address.
  await page.goto("/login");
  await page.locator("#email").fill(admin.email);
  await page.locator("#password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(new RegExp(`/${state.slugA}/keys$`));
  await page.context().close();
});
