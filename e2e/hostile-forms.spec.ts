// Hostile text through the dashboard's own forms, in Chromium: NUL and control characters in
// the sign-up form, the create-key, edit-key and revoke dialogs, and in search params and URLs.
// Each one gets a readable field error or is ignored with a note; never an error page. (A lone
// surrogate cannot travel in a browser's form post: it is sent as U+FFFD, which is storable.)
import { expect, type Locator, type Page, test } from "@playwright/test";

test.describe.configure({ mode: "serial" });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const UNSAFE = "Must not contain NUL, control characters or unpaired surrogates.";
const user = {
  name: "Hal Hostile",
  email: `hal-${RUN}@example.test`,
  password: "a long enough passphrase",
  org: `Hostile ${RUN}`,
};

let page: Page;
let slug = "";

/** Sets a field's value as typed, control characters and all (fill() may normalize them). */
async function setValue(field: Locator, value: string) {
  await field.evaluate((el, v) => {
    (el as HTMLInputElement).value = v;
  }, value);
}

test.beforeAll(async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
});

test.afterAll(async () => {
  await page?.context().close();
});

test("sign-up: NUL and control characters get field errors; what was typed stays", async () => {
  await page.goto("/signup");
  await setValue(page.locator("#name"), "Hal\u0000Hostile");
  await page.locator("#email").fill(user.email);
  await page.locator("#password").fill(user.password);
  await setValue(page.locator("#organizationName"), "Evil\u001B[31m Co");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("name-error")).toHaveText(UNSAFE);
  await expect(page.getByTestId("organizationName-error")).toHaveText(UNSAFE);
  await expect(page.locator("#email")).toHaveValue(user.email);

  await page.locator("#name").fill(user.name);
  await page.locator("#password").fill(user.password);
  await page.locator("#organizationName").fill(user.org);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);
  slug = new URL(page.url()).pathname.split("/")[1];
});

test("create-key dialog: a NUL or a line break in the name is a field error, no key is made", async () => {
  await page.getByTestId("create-key").first().click();
  const open = page.locator('dialog[open][data-testid="create-key-dialog"]');
  await expect(open).toBeVisible();
  for (const name of ["bad\u0000name", "bell\u0007", "esc\u001B[2J"]) {
    await setValue(open.locator("#key-name"), name);
    await open.getByTestId("create-key-submit").click();
    await expect(open.getByTestId("key-name-error")).toHaveText(UNSAFE);
  }
  await open.locator("#key-name").fill("edit-me");
  await open.getByTestId("create-key-submit").click();
  await expect(open.getByTestId("key-secret")).toBeVisible();
  await open.getByTestId("copy-key").click();
  await open.getByTestId("key-done").click();
  await expect(page.getByTestId("key-row")).toHaveCount(1);
});

test("edit-key dialog: control characters and an out-of-range limit are field errors", async () => {
  const row = page.getByTestId("key-row").filter({ hasText: "edit-me" });
  const id = (await row.getAttribute("data-key-id")) ?? "";
  await page.goto(`/${slug}/keys/${id}`);
  await page.getByTestId("edit-key").click();
  const dialog = page.getByTestId("edit-key-dialog");
  await setValue(dialog.locator("#edit-key-name"), "renamed\u0000");
  await dialog.getByTestId("edit-key-submit").click();
  await expect(dialog.getByTestId("edit-key-name-error")).toHaveText(UNSAFE);

  await dialog.locator("#edit-key-name").fill("edit-me");
  await setValue(dialog.locator("#edit-key-rate-limit"), "2147483648");
  await dialog.getByTestId("edit-key-submit").click();
  await expect(dialog.getByTestId("edit-key-rate-limit-error")).toBeVisible();
  await setValue(dialog.locator("#edit-key-rate-limit"), "1.5");
  await dialog.getByTestId("edit-key-submit").click();
  await expect(dialog.getByTestId("edit-key-rate-limit-error")).toBeVisible();
  await expect(page.getByTestId("key-name")).toHaveText("edit-me");
});

test("revoke dialog: a NUL in the reason is a field error; a multi-line reason is fine", async () => {
  await page.goto(`/${slug}/keys`);
  const row = page.getByTestId("key-row").filter({ hasText: "edit-me" });
  const id = (await row.getAttribute("data-key-id")) ?? "";
  await row.getByTestId(`revoke-${id}`).click();
  const dialog = row.getByTestId("revoke-key-dialog");
  await setValue(dialog.locator("#revoke-reason"), "leaked\u0000 somewhere");
  await dialog.locator("#revoke-confirm").check();
  await dialog.getByTestId("revoke-submit").click();
  await expect(dialog.getByTestId("revoke-reason-error")).toHaveText(UNSAFE);
  await dialog.locator("#revoke-reason").fill("leaked:\n\tin a CI log");
  await dialog.locator("#revoke-confirm").check();
  await dialog.getByTestId("revoke-submit").click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId("key-status")).toHaveText("revoked");
});

test("search params and URLs with NUL: a note or a not-found page, never an error page", async () => {
  const res = await page.goto(`/${slug}/keys?q=%00x`);
  expect(res?.status()).toBe(200);
  await expect(page.getByTestId("key-search-error")).toContainText("ignored");
  await expect(page.getByTestId("key-row")).toHaveCount(1);

  const long = await page.goto(`/${slug}/keys?q=${"x".repeat(101)}`);
  expect(long?.status()).toBe(200);
  await expect(page.getByTestId("key-search-error")).toBeVisible();

  const fine = await page.goto(`/${slug}/keys?q=edit`);
  expect(fine?.status()).toBe(200);
  await expect(page.getByTestId("key-search-error")).toHaveCount(0);
  await expect(page.getByTestId("key-row")).toHaveCount(1);

  for (const path of [
    `/${slug}/audit?action=%00&cursor=%00&back=%00`,
    `/${slug}/usage?range=custom&from=%00&to=%00`,
  ]) {
    const r = await page.goto(path);
    expect(r?.status(), path).toBe(200);
  }
  for (const path of [`/%00/keys`, `/${slug}%00/keys`, `/${slug}/keys/%00`, `/%0A%0D/audit`]) {
    const r = await page.goto(path);
    expect(r?.status(), path).toBe(404);
  }
});
