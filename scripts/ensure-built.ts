// Build the Next app when .next is missing or older than the source. A lock
// file serializes builds, so parallel test runs never build over each other.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { config, frameworkEnv } from "@/lib/config";
import { isProcessAlive } from "@/lib/db/owner-lock";

const SOURCES = [
  "app",
  "components",
  "lib",
  "public",
  "auth.ts",
  "proxy.ts",
  "next.config.ts",
  "postcss.config.mjs",
  "package-lock.json",
  "prisma/schema.prisma",
];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(p)) {
    if (entry === "generated" || entry === "node_modules" || entry.startsWith(".")) continue;
    if (entry.endsWith(".test.ts")) continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry)));
  }
  return newest;
}

export function isBuildStale(root = process.cwd()): boolean {
  const buildId = path.join(root, ".next/BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(root, s)) > built);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function ensureBuilt(log: (m: string) => void = console.log): Promise<void> {
  const lock = path.resolve(".next-build.lock");
  for (;;) {
    if (!isBuildStale()) return;
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
    } catch {
      let pid = 0;
      try {
        pid = Number.parseInt(readFileSync(lock, "utf8"), 10);
      } catch {}
      if (!isProcessAlive(pid)) {
        try {
          unlinkSync(lock);
        } catch {}
      } else {
        await sleep(500);
      }
      continue;
    }
    try {
      if (!isBuildStale()) return;
      log(
        existsSync(".next/BUILD_ID")
          ? "keyward: source changed, rebuilding"
          : "keyward: building the app",
      );
      const r = spawnSync(
        process.execPath,
        [path.resolve("node_modules/next/dist/bin/next"), "build"],
        {
          stdio: ["ignore", "inherit", "inherit"],
          env: {
            ...process.env,
            NODE_ENV: "production",
            // Off unless the operator set NEXT_TELEMETRY_DISABLED=0 (lib/config.ts); empty is "on".
            NEXT_TELEMETRY_DISABLED: frameworkEnv(config()).NEXT_TELEMETRY_DISABLED ?? "",
          },
        },
      );
      if (r.status !== 0) throw new Error("next build failed");
      return;
    } finally {
      try {
        unlinkSync(lock);
      } catch {}
    }
  }
}
