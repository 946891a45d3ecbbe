// The landing page tells an anonymous visitor what Keyward is and nothing about this instance:
// no counts, no organization names, even right after a key is created with the CLI (sent to the
// running app over its operator socket). A signed-in visitor goes to the dashboard.
import { spawnSync } from "node:child_process";
import { expect, test } from "@playwright/test";

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

test("an anonymous visitor sees no counts and no organization on the home page", async ({
  page,
}) => {
  const demo = cli("keys:list", "--org", "demo", "--status", "active").keys;
  expect(demo.length).toBeGreaterThan(0); // the instance has data to leak
  const created = cli("keys:create", "--org", "demo", "--name", "from e2e", "--env", "test");
  expect(created.key).toMatch(/^pk_test_[A-Za-z0-9_-]{43}$/);

  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Keyward" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  const html = await page.content();
  const text = (await page.locator("main").textContent()) ?? "";
  expect(text.replaceAll("/api/v1", "")).not.toMatch(/\d/); // no count of anything
  expect(await page.getByTestId("instance-summary").count()).toBe(0);
  for (const leak of ["demo", "Demo", "organization count", created.key, created.prefix]) {
    expect(text).not.toContain(leak);
  }
  expect(html).not.toContain(created.key);
  expect(html).not.toContain(created.id);
});
