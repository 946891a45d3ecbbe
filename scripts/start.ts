// `npm start`: refuse early if another process owns the embedded folder, make
// sure AUTH_SECRET exists, build when the build is missing or older than the
// source, then run the server in this same process (so signals reach it).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { databaseTarget, dataDir } from "@/lib/db/config";
import { isProcessAlive, readLockOwner } from "@/lib/db/owner-lock";
import { ensureBuilt } from "./ensure-built";

function fail(message: string): never {
  console.error(`keyward: ${message}`);
  process.exit(1);
}

let target: ReturnType<typeof databaseTarget>;
try {
  target = databaseTarget();
} catch (e) {
  fail((e as Error).message);
}
if (target.kind === "pglite") {
  const owner = readLockOwner(target.dataDir);
  if (owner !== null && owner !== process.pid && isProcessAlive(owner)) {
    fail(
      `the embedded database in ${target.dataDir} is owned by pid ${owner}; run one instance per folder, or set DATABASE_URL (and REDIS_URL) to run several`,
    );
  }
}

if (!process.env.AUTH_SECRET) {
  // One secret per data folder, kept there (0600), so sessions survive restarts.
  const dir = dataDir();
  const file = path.join(dir, "auth-secret");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(file))
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
  process.env.AUTH_SECRET = readFileSync(file, "utf8").trim();
}

if (process.env.KEYWARD_SKIP_BUILD !== "1") {
  try {
    await ensureBuilt();
  } catch (e) {
    fail((e as Error).message);
  }
}

(process.env as Record<string, string>).NODE_ENV = "production";
process.env.NEXT_MANUAL_SIG_HANDLE = "true";
await import("../server.ts");
