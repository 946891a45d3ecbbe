import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["lib/**/*.test.ts", "tests/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // The migrated PGlite template, made once before any file (tests/helpers/pglite-template.ts).
    globalSetup: ["tests/helpers/global-setup.ts"],
    pool: "forks",
    // Each test file is a new process that opens PGlite for seconds, not hours: V8's optimizing
    // WebAssembly tier recompiles PGlite's hot functions on background threads and costs more
    // CPU than it saves in that time (as for the CLI, lib/cli/wasm-tier.ts).
    execArgv: ["--liftoff-only"],
    // Two files at once: most of the suite waits on servers and child processes it started
    // (next start, the CLI, redis-server, PostgreSQL), so two overlap well on 2 cores; vitest's
    // default here is one (cores - 1), which took the suite past 15 minutes.
    maxWorkers: 2,
  },
});
