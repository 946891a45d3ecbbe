// Runs the real server (scripts/start.ts -> server.ts) as a child process on a
// free port, over a fresh embedded folder or a fresh PostgreSQL database.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ensureBuilt } from "@/scripts/ensure-built";
import { createPostgresDatabase } from "./db";
import { copyMigratedDatabase } from "./pglite-template";

export interface TestServer {
  url: string;
  port: number;
  /** Embedded data folder (also set for postgres: holds the auth secret). */
  dataDir: string;
  /** PostgreSQL URL when database is "postgres". */
  databaseUrl?: string;
  proc: ChildProcess;
  logs(): string;
  /** Sends a signal and waits for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface StartOptions {
  database?: "embedded" | "postgres";
  /**
   * The embedded data folder, as the caller left it. Without one the server gets a new folder
   * holding a copy of the run's migrated database (pglite-template.ts): creating and migrating
   * one costs the server about 10 s of CPU here. A start on an empty folder stays covered by
   * Playwright's server (playwright.config.ts), and the CLI's by tests/config/dotenv.test.ts.
   */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  port?: number;
  /** Resolve once the process has exited instead of waiting for "ready" (for refusal tests). */
  expectExit?: boolean;
  readyTimeoutMs?: number;
  /** Extra node flags for the server process (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** The working directory (default: the repository), e.g. one from appWorkingDir() with a .env. */
  cwd?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export const root = path.resolve(import.meta.dirname, "../..");

export function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), "kw-data-"));
}

/**
 * A new embedded data folder that already holds the run's migrated database (as if the app had
 * opened it once): what then opens it skips creating and migrating one (about 10 s of CPU here).
 */
export async function migratedDataDir(): Promise<string> {
  const dataDir = tempDataDir();
  await copyMigratedDatabase(dataDir);
  return dataDir;
}

/**
 * A working directory of its own for the app: every top-level entry of the repository linked
 * in (the build, node_modules, sources), but none of its .env files or data, plus `files`
 * (e.g. a `.env`). Runs `npm start` and the CLI as an operator would from a checkout.
 */
export function appWorkingDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kw-cwd-"));
  const skip = new Set([".data", ".git", "tmp", "test-results", "playwright-report"]);
  for (const entry of readdirSync(root)) {
    if (skip.has(entry) || entry.startsWith(".env") || entry.endsWith(".lock")) continue;
    symlinkSync(path.join(root, entry), path.join(dir, entry));
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  await ensureBuilt(() => {});
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? tempDataDir();
  let databaseUrl: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  if (opts.database === "postgres") {
    if (!process.env.DATABASE_URL) throw new Error("postgres server tests need DATABASE_URL");
    ({ url: databaseUrl, drop } = await createPostgresDatabase());
  }
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    KEYWARD_DATA_DIR: dataDir,
    KEYWARD_SKIP_BUILD: "1",
    KEYWARD_SEED_DEMO: "0",
    AUTH_SECRET: "test-secret-for-keyward-tests-only-0123456789",
    DATABASE_URL: databaseUrl,
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  // Our own new folder, and the server will open it (no PostgreSQL, no refusal expected).
  if (!opts.dataDir && !env.DATABASE_URL && !opts.expectExit && env.KEYWARD_DATA_DIR === dataDir) {
    await copyMigratedDatabase(dataDir);
  }
  // Under vitest a server lives for seconds to a minute: V8's optimizing tier for PGlite's
  // WebAssembly costs more CPU than it saves in that time (about 2 of a start's 7-9 s of CPU
  // here), as for the test workers (vitest.config.ts) and the CLI (lib/cli/wasm-tier.ts).
  // Benchmarks (bench/lib/keyward.ts) start servers as they run in production.
  const wasmTier = process.env.VITEST ? ["--liftoff-only"] : [];
  const proc = spawn(
    process.execPath,
    [...wasmTier, ...(opts.nodeArgs ?? []), "--import", "tsx", "scripts/start.ts"],
    {
      cwd: opts.cwd ?? root,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once("exit", (code) => resolve(code)),
  );
  exited.then(() => drop?.().catch(() => {}));

  const server: TestServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    databaseUrl,
    proc,
    exited,
    logs: () => out,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
  if (opts.expectExit) {
    await exited;
    return server;
  }
  // Generous: on a shared, loaded machine a server's first start took past 90 s with no output.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 180_000);
  while (!out.includes("keyward: ready on")) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`server exited before ready (code ${proc.exitCode}):\n${out}`);
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`server not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

/** The operator's entry (`npm run keyward`): through tsx, as operators run it. */
export const CLI_ENTRY = "scripts/cli.ts";

/**
 * Runs the CLI as its own process: `npm run keyward -- ...` without npm's noise. Under vitest
 * the default is the run's bundle of the same code (tests/helpers/global-setup.ts); pass
 * `script: CLI_ENTRY` for the operator's entry through tsx.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  opts: { cwd?: string; script?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const e: Record<string, string | undefined> = { ...process.env, ...env };
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    const script = opts.script ?? process.env.KW_TEST_CLI_BUNDLE ?? CLI_ENTRY;
    // A bundled CLI (tests/helpers/cli-bundle.ts) is plain JavaScript: no tsx loader.
    const loader = script.endsWith(".mjs") ? [] : ["--import", "tsx"];
    const proc = spawn(process.execPath, [...loader, script, ...args], {
      cwd: opts.cwd ?? root,
      env: e as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => {
      stdout += d;
    });
    proc.stderr.on("data", (d) => {
      stderr += d;
    });
    proc.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
