// The reference servers of the verify benchmark, each its own process: the plain Next app
// (bench/plain-app, built here when its build is missing or older than its source), the bare
// node:http server and the floor (bench/lib/floor-server.mjs: SHA-256, one indexed SELECT, a 1 s
// cache), embedded or on PostgreSQL.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { freePort, root } from "@/tests/helpers/server";

export interface RefServer {
  url: string;
  proc: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

const plainDir = path.join(root, "bench/plain-app");

function newest(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let n = st.mtimeMs;
  for (const e of readdirSync(p)) if (e !== ".next") n = Math.max(n, newest(path.join(p, e)));
  return n;
}

/** `next build bench/plain-app` unless its build is current. */
export function buildPlainApp(log: (m: string) => void = console.log): void {
  const buildId = path.join(plainDir, ".next/BUILD_ID");
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= newest(plainDir)) return;
  log("building bench/plain-app ...");
  const r = spawnSync(path.join(root, "node_modules/.bin/next"), ["build", plainDir], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error(`next build bench/plain-app failed:\n${r.stdout}${r.stderr}`);
}

async function startChild(
  script: string,
  readyText: string,
  extraEnv: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
): Promise<RefServer> {
  const port = await freePort();
  const proc = spawn(process.execPath, [...nodeArgs, script], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!out.includes(readyText)) {
    if (proc.exitCode !== null) throw new Error(`${script} exited:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`${script} not ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    proc,
    logs: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

export function startPlainApp(): Promise<RefServer> {
  return startChild(path.join(plainDir, "server.mjs"), "plain-app: ready");
}

export function startBare(): Promise<RefServer> {
  return startChild(path.join(root, "bench/lib/bare-server.mjs"), "bare: ready");
}

/**
 * The floor over an embedded data folder (its PGlite opened in the floor's process: nothing else
 * may have the folder open) or over a PostgreSQL database.
 */
export function startFloor(
  db: { kind: "embedded"; dataDir: string } | { kind: "postgres"; databaseUrl: string },
): Promise<RefServer> {
  return startChild(
    path.join(root, "bench/lib/floor-server.mjs"),
    "floor: ready",
    db.kind === "embedded"
      ? { FLOOR_DATA_DIR: db.dataDir }
      : { FLOOR_DATABASE_URL: db.databaseUrl },
  );
}

/**
 * The fast-path experiment (bench/lib/fast-verify-server.ts: verify through the product's
 * functions without the route core) over an embedded data folder nothing else has open, or a
 * PostgreSQL database and Redis. `env` adds its variant switches (FAST_VERIFY_SCHEMA=always,
 * FAST_VERIFY_METRICS=off).
 */
export function startFastVerify(
  db:
    | { kind: "embedded"; dataDir: string }
    | { kind: "postgres"; databaseUrl: string; redisUrl: string },
  env: Record<string, string> = {},
): Promise<RefServer> {
  return startChild(
    path.join(root, "bench/lib/fast-verify-server.ts"),
    "keyward: ready on",
    {
      // What tests/helpers/server.ts gives the real server.
      HOST: "127.0.0.1",
      AUTH_SECRET: "test-secret-for-keyward-tests-only-0123456789",
      KEYWARD_SEED_DEMO: "0",
      RATE_LIMIT_STORE: undefined,
      LOG_LEVEL: undefined,
      ...(db.kind === "embedded"
        ? { KEYWARD_DATA_DIR: db.dataDir, DATABASE_URL: undefined, REDIS_URL: undefined }
        : { DATABASE_URL: db.databaseUrl, REDIS_URL: db.redisUrl }),
      ...env,
    },
    ["--import", "tsx"],
  );
}
