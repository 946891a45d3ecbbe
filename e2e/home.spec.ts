// The landing page reads the database: it shows the demo organization's key
// count, and a key created with the CLI (sent to the running app over its
// operator socket) shows up on the next load.
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

test("the home page shows the demo organization's active key count from the database", async ({
  page,
}) => {
  const active = cli("keys:list", "--org", "demo", "--status", "ACTIVE").keys.length;
  expect(active).toBeGreaterThan(0);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Keyward" })).toBeVisible();
  await expect(page.getByTestId("demo-key-count")).toHaveText(String(active));

  const created = cli("keys:create", "--org", "demo", "--name", "from e2e", "--env", "test");
  expect(created.key).toMatch(/^pk_test_[A-Za-z0-9_-]{43}$/);
  await page.reload();
  await expect(page.getByTestId("demo-key-count")).toHaveText(String(active + 1));
  expect(await page.content()).not.toContain(created.key);
});
