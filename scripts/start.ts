// `npm start`: load and check the configuration (.env included), refuse early if another
// process owns the embedded folder, make sure AUTH_SECRET exists, build when the build is
// missing or older than the source, then run the server in this same process (so signals
// reach it).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Config, config, frameworkEnv } from "@/lib/config";
import { databaseTarget, dataDir } from "@/lib/db/config";
import { findOwner } from "@/lib/db/owner-lock";
import { ensureBuilt } from "./ensure-built";

function fail(message: string): never {
  console.error(`keyward: ${message}`);
  process.exit(1);
}

let env: Config;
let target: ReturnType<typeof databaseTarget>;
try {
  env = config();
  target = databaseTarget();
} catch (e) {
  fail((e as Error).message);
}

// What Next reads from the real environment before our code runs (lib/config.ts).
for (const [name, value] of Object.entries(frameworkEnv(env))) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

if (target.kind === "pglite") {
  const owner = await findOwner(target.dataDir);
  if (owner) {
    fail(
      `the embedded database in ${target.dataDir} is owned by pid ${owner.pid}; run one instance per folder, or set DATABASE_URL (and REDIS_URL) to run several`,
    );
  }
}

if (!env.AUTH_SECRET) {
  // One secret per data folder, kept there (0600), so sessions survive restarts.
  const dir = dataDir();
  const file = path.join(dir, "auth-secret");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(file))
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
  // Auth.js and the app's bundles read it from the environment.
  process.env.AUTH_SECRET = readFileSync(file, "utf8").trim();
}

if (!env.KEYWARD_SKIP_BUILD) {
  try {
    await ensureBuilt();
  } catch (e) {
    fail((e as Error).message);
  }
}

await import("../server.ts");
