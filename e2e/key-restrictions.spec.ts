// Key restrictions in the dashboard, end to end in Chromium: a key created with allowed networks,
// an external id and metadata (per-line and JSON errors first), then verified over HTTP (inside:
// VALID with meta; outside: IP_NOT_ALLOWED); the key page and the external-id filter show it; the
// owner's key policy, saved on Settings, refuses a key without expiry in the dialog (server actions).
import { expect, type Page, test } from "@playwright/test";

test.describe.configure({ mode: "serial" });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const KEY_RE = /^pk_(live|test)_[A-Za-z0-9_-]{43}$/;
const owner = {
  name: "Rita Restrict",
  email: `rita-${RUN}@example.test`,
  password: "a long and careful passphrase",
  org: `Fence ${RUN}`,
};
const state: { slug?: string; key?: string; keyId?: string } = {};
let page: Page;

async function openCreateDialog(p: Page) {
  await p.getByTestId("create-key").first().click();
  const open = p.locator('dialog[open][data-testid="create-key-dialog"]');
  await expect(open).toBeVisible();
  const labelledBy = await open.getAttribute("aria-labelledby");
  return p.locator(`dialog[aria-labelledby="${labelledBy}"]`);
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await page.goto("/signup");
  await page.locator("#name").fill(owner.name);
  await page.locator("#email").fill(owner.email);
  await page.locator("#password").fill(owner.password);
  await page.locator("#organizationName").fill(owner.org);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);
  state.slug = new URL(page.url()).pathname.split("/")[1];
});

test.afterAll(async () => {
  await page?.close();
});

test("create a key with networks, an external id and metadata", async () => {
  const dialog = await openCreateDialog(page);
  await dialog.locator("#key-name").fill("fenced-service");
  await dialog.locator("#key-cidrs").fill("203.0.113.0/24\nnot-a-network\n2001:db8::/32");
  await dialog.locator("#key-external-id").fill("user_7");
  await dialog.locator("#key-meta").fill('{"plan": ');
  await dialog.getByTestId("create-key-submit").click();
  // Each bad line is named; the JSON error says what is wrong.
  await expect(dialog.getByTestId("key-cidrs-error")).toContainText("Line 2 (not-a-network)");
  await expect(dialog.getByTestId("key-meta-error")).toContainText("Not valid JSON");
  // What was typed stays.
  await expect(dialog.locator("#key-external-id")).toHaveValue("user_7");

  await dialog.locator("#key-cidrs").fill("203.0.113.0/24\n2001:db8::/32");
  await dialog.locator("#key-meta").fill("[1, 2]");
  await dialog.getByTestId("create-key-submit").click();
  await expect(dialog.getByTestId("key-meta-error")).toContainText("JSON object");

  await dialog.locator("#key-meta").fill('{"plan": "pro", "seats": 3}');
  await dialog.getByTestId("create-key-submit").click();
  const secret = dialog.getByTestId("key-secret");
  await expect(secret).toBeVisible();
  state.key = (await secret.textContent())?.trim() ?? "";
  expect(state.key).toMatch(KEY_RE);
  await dialog.getByTestId("copy-key").click();
  await dialog.getByTestId("key-done").click();
  await expect(dialog).toBeHidden();
  const row = page.getByTestId("key-row").filter({ hasText: "fenced-service" });
  await expect(row).toBeVisible();
  state.keyId = (await row.getAttribute("data-key-id")) ?? "";
});

test("verify over HTTP: inside VALID with meta, outside IP_NOT_ALLOWED", async ({ request }) => {
  const inside = await request.post("/api/v1/keys/verify", {
    data: { key: state.key, ip: "203.0.113.40" },
  });
  expect(inside.status()).toBe(200);
  expect(await inside.json()).toMatchObject({
    valid: true,
    code: "VALID",
    keyId: state.keyId,
    externalId: "user_7",
    meta: { plan: "pro", seats: 3 },
  });
  const mapped = await request.post("/api/v1/keys/verify", {
    data: { key: state.key, ip: "::ffff:203.0.113.41" },
  });
  expect((await mapped.json()).code).toBe("VALID");
  for (const ip of ["198.51.100.1", undefined]) {
    const outside = await request.post("/api/v1/keys/verify", {
      data: ip ? { key: state.key, ip } : { key: state.key },
    });
    expect(await outside.json()).toMatchObject({ valid: false, code: "IP_NOT_ALLOWED" });
  }
});

test("the key page shows the networks, external id and metadata; the list filters by external id", async () => {
  await page.goto(`/${state.slug}/keys/${state.keyId}`);
  await expect(page.getByTestId("key-cidrs")).toContainText("203.0.113.0/24");
  await expect(page.getByTestId("key-cidrs")).toContainText("2001:db8::/32");
  await expect(page.getByTestId("key-external-id")).toHaveText("user_7");
  await expect(page.getByTestId("key-meta")).toContainText('"plan": "pro"');

  await page.goto(`/${state.slug}/keys?externalId=user_7`);
  await expect(page.getByTestId("key-row")).toHaveCount(1);
  await expect(page.locator("#key-external-id-filter")).toHaveValue("user_7");
  await page.goto(`/${state.slug}/keys?externalId=someone_else`);
  await expect(page.getByTestId("key-row")).toHaveCount(0);
});

test("the edit dialog changes the networks, with errors per line", async () => {
  await page.goto(`/${state.slug}/keys/${state.keyId}`);
  await page.getByTestId("edit-key").click();
  const dialog = page.locator('dialog[open][data-testid="edit-key-dialog"]');
  await expect(dialog.locator("#edit-key-cidrs")).toHaveValue("203.0.113.0/24\n2001:db8::/32");
  await dialog.locator("#edit-key-cidrs").fill("198.51.100.0/24\n10.0.0.0/33");
  await dialog.getByTestId("edit-key-submit").click();
  await expect(dialog.getByTestId("edit-key-cidrs-error")).toContainText("Line 2");
  await dialog.locator("#edit-key-cidrs").fill("198.51.100.0/24");
  await dialog.getByTestId("edit-key-submit").click();
  await expect(page.getByTestId("key-cidrs")).toContainText("198.51.100.0/24");
  const r = await page.request.post("/api/v1/keys/verify", {
    data: { key: state.key, ip: "198.51.100.3" },
  });
  expect((await r.json()).code).toBe("VALID");
});

test("the owner's key policy refuses a key without expiry in the dialog", async () => {
  await page.goto(`/${state.slug}/settings`);
  const form = page.getByTestId("key-policy-form");
  await form.locator("#policy-max-lifetime").fill("30");
  await form.getByTestId("key-policy-save").click();
  await expect(page.getByText("Key policy saved.")).toBeVisible();

  await page.goto(`/${state.slug}/keys`);
  const dialog = await openCreateDialog(page);
  await dialog.locator("#key-name").fill("no-expiry");
  await dialog.getByTestId("create-key-submit").click();
  await expect(dialog.getByTestId("key-expires-error")).toContainText("30 days");
  await expect(dialog.getByTestId("key-secret")).toHaveCount(0);
});
