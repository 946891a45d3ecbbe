// /docs: Scalar's API reference from the app's own bundle. Every request that leaves loopback is
// blocked (and must not even be tried), and the page still renders the operations, their curl and
// @keyward/sdk examples and the error codes table, in light and in dark (the OS scheme), with no
// serious or critical WCAG 2.1 AA violation (axe).
import AxeBuilder from "@axe-core/playwright";
import { type BrowserContext, expect, type Page, test } from "@playwright/test";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

async function offline(context: BrowserContext): Promise<string[]> {
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.protocol === "blob:" || LOOPBACK.has(url.hostname)) {
      return route.continue();
    }
    blocked.push(url.origin);
    return route.abort("internetdisconnected");
  });
  return blocked;
}

async function openDocs(page: Page) {
  const response = await page.goto("/docs");
  expect(response?.status()).toBe(200);
  // Scalar renders operations as they come near the viewport: go to verify from the sidebar.
  const link = page.locator('a[href="#tag/keys/POST/api/v1/keys/verify"]').first();
  await expect(link).toBeVisible({ timeout: 30_000 });
  await link.click();
  await expect(page.getByRole("heading", { name: "Verify a key" }).first()).toBeVisible({
    timeout: 30_000,
  });
}

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target) }));
}

for (const scheme of ["light", "dark"] as const) {
  test(`/docs renders offline in ${scheme} mode, with examples, the error table and no serious axe violation`, async ({
    page,
    context,
  }) => {
    test.setTimeout(240_000); // axe over the whole reference takes a while
    const blocked = await offline(context);
    await page.emulateMedia({ colorScheme: scheme });
    await openDocs(page);

    // Every tag lists its operations in the sidebar.
    for (const href of [
      "#tag/keys/POST/api/v1/keys/verify",
      "#tag/usage/GET/api/v1/usage",
      "#tag/system/GET/api/v1/health",
    ]) {
      await expect(page.locator(`a[href="${href}"]`).first()).toBeVisible();
    }
    // The error codes table (from lib/errors.ts), rendered as a table, not as literal markdown.
    const table = page.getByRole("table").filter({ hasText: "KEY_NOT_FOUND" }).first();
    await expect(table).toBeVisible();
    await expect(table.getByRole("cell", { name: "QUOTA_EXCEEDED" })).toBeVisible();
    await expect(page.getByText("| --- |")).toHaveCount(0);

    // The example request shows curl first, and @keyward/sdk one choice away.
    const verify = page.getByRole("region", { name: "Verify a key" });
    await expect(
      verify.getByText('curl -X POST "$KEYWARD_URL/api/v1/keys/verify"').first(),
    ).toBeVisible();
    await verify.getByRole("button", { name: "Change code sample language: curl" }).click();
    await page.getByRole("option", { name: "@keyward/sdk" }).click();
    await expect(verify.getByText("createKeywardClient").first()).toBeVisible();
    await expect(verify.getByText('kw.POST("/api/v1/keys/verify"').first()).toBeVisible();

    // Dark mode follows the OS scheme.
    await expect(page.locator("body")).toHaveClass(scheme === "dark" ? /dark-mode/ : /light-mode/);

    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    console.log(`/docs ${scheme}: page height ${height} px`);

    expect(await seriousViolations(page)).toEqual([]);
    expect(blocked).toEqual([]);
  });
}
