import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

// One server for the run, on a fresh embedded folder with the demo seeded. The
// port and folder are chosen once in the main process; workers inherit them.
// KEYWARD_E2E_BASE_URL=http://... runs the flows against a server already up instead (for
// iterating without a rebuild; it must hold the seeded demo).
const external = process.env.KEYWARD_E2E_BASE_URL;
process.env.KEYWARD_E2E_PORT ??= String(41000 + Math.floor(Math.random() * 8000));
process.env.KEYWARD_E2E_DATA ??= external ? "" : mkdtempSync(path.join(os.tmpdir(), "kw-e2e-"));
const port = Number(process.env.KEYWARD_E2E_PORT);
const baseURL = external ?? `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ? [["list"], ["json"]] : [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    {
      name: "chromium",
      use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 800 } },
    },
  ],
  webServer: external
    ? undefined
    : {
        command: "node --import tsx scripts/start.ts",
        url: `${baseURL}/`,
        timeout: 180_000,
        reuseExistingServer: false,
        stdout: "pipe",
        stderr: "pipe",
        gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
        env: {
          PORT: String(port),
          HOST: "127.0.0.1",
          KEYWARD_DATA_DIR: process.env.KEYWARD_E2E_DATA,
          DATABASE_URL: "",
          REDIS_URL: "",
          AUTH_SECRET: "e2e-secret-for-keyward-tests-only-0123456789",
          KEYWARD_SEED_DEMO: "1",
          // e2e/webhooks.spec.ts registers a receiver it runs on 127.0.0.1.
          KEYWARD_WEBHOOK_ALLOW_PRIVATE: "1",
        },
      },
});
