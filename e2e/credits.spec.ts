// Credits end to end: a key created in the dashboard with 3 credits verifies 3 times over HTTP,
// the 4th answers CREDITS_EXHAUSTED, and the key page and the keys list show 0 left.
import { expect, test } from "@playwright/test";

test.describe.configure({ mode: "serial", timeout: 180_000 });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const KEY_RE = /^pk_(live|test)_[A-Za-z0-9_-]{43}$/;

test("a key with 3 credits verifies 3 times, then CREDITS_EXHAUSTED; its page shows 0 left", async ({
  page,
  request,
}) => {
  await page.goto("/signup");
  await page.locator("#name").fill("Cora Credits");
  await page.locator("#email").fill(`cora-${RUN}@example.test`);
  await page.locator("#password").fill("correct horse battery staple");
  await page.locator("#organizationName").fill(`Credits ${RUN}`);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);
  const slug = new URL(page.url()).pathname.split("/")[1];

  await page.getByTestId("create-key").first().click();
  const open = page.locator('dialog[open][data-testid="create-key-dialog"]');
  await expect(open).toBeVisible();
  const dialog = page.locator(
    `dialog[aria-labelledby="${await open.getAttribute("aria-labelledby")}"]`,
  );
  await dialog.locator("#key-name").fill("metered");
  // A bad value is a field error, not a failure.
  await dialog.locator("#key-credits").fill("-4");
  await dialog.getByTestId("create-key-submit").click();
  await expect(dialog.getByTestId("key-credits-error")).toBeVisible();
  await dialog.locator("#key-credits").fill("3");
  await dialog.getByTestId("create-key-submit").click();
  const secret = dialog.getByTestId("key-secret");
  await expect(secret).toBeVisible();
  const key = (await secret.textContent())?.trim() ?? "";
  expect(key).toMatch(KEY_RE);
  await dialog.getByTestId("copy-key").click();
  await dialog.getByTestId("key-done").click();
  await expect(dialog).toBeHidden();
  const row = page.getByTestId("key-row").filter({ hasText: "metered" });
  await expect(row.getByTestId("key-credits-cell")).toHaveText("3");
  const id = (await row.getAttribute("data-key-id")) ?? "";

  const codes: string[] = [];
  const remaining: (number | null)[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await request.post("/api/v1/keys/verify", { data: { key } });
    expect(r.status()).toBe(200);
    const body = await r.json();
    codes.push(body.code);
    remaining.push(body.credits?.remaining ?? null);
  }
  expect(codes).toEqual(["VALID", "VALID", "VALID", "CREDITS_EXHAUSTED"]);
  expect(remaining).toEqual([2, 1, 0, 0]);

  await page.goto(`/${slug}/keys/${id}`);
  await expect(page.getByTestId("key-credits")).toHaveText("0");
  await page.goto(`/${slug}/keys`);
  await expect(
    page.getByTestId("key-row").filter({ hasText: "metered" }).getByTestId("key-credits-cell"),
  ).toHaveText("0");
});
