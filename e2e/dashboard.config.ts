// Runs the dashboard flows against a server that is already up (KEYWARD_E2E_BASE_URL), for
// iterating without a rebuild. The lead's playwright.config.ts starts its own server for CI.
import { defineConfig, devices } from "@playwright/test";

const baseURL = process.env.KEYWARD_E2E_BASE_URL ?? "http://127.0.0.1:4123";

export default defineConfig({
  testDir: ".",
  testMatch: /dashboard.*\.spec\.ts$/,
  outputDir: "../test-results/dashboard-local",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
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
});
