// SDK test setup: a real Keyward server (tests/helpers/server.ts) on a seeded embedded folder, a
// service credential made with the CLI as an operator would, and the example apps as their own
// processes (Express and Hono with tsx, the Next.js example with `next dev`), all over real HTTP.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { openDatabase } from "@/lib/db";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { createKey, revokeKey } from "@/lib/services/keys";
import { copyMigratedDatabase } from "@/tests/helpers/pglite-template";
import { freePort, root, runCli } from "@/tests/helpers/server";

const actor: Actor = { type: "system", id: "sdk-tests" };

export interface SdkFixtures {
  orgId: string;
  /** Reads the organization's usage (usage:read). */
  reader: { key: string; id: string };
  /** Manages the organization's keys (keys:read, keys:write). */
  admin: { key: string; id: string };
  keys: Record<
    | "express"
    | "hono"
    | "next"
    | "shutdown"
    | "outage"
    | "cached"
    | "limited"
    | "revoked"
    | "noScope"
    | "loopbackOnly"
    | "elsewhere",
    { key: string; id: string }
  >;
  serviceCredential: string;
}

/** Builds the SDK's dist when it is missing (npm test builds it before vitest). */
export function ensureSdkBuilt(): void {
  if (existsSync(path.join(root, "packages/sdk/dist/index.js"))) return;
  const r = spawnSync("npx", ["tsup"], { cwd: path.join(root, "packages/sdk"), stdio: "inherit" });
  if (r.status !== 0) throw new Error("building packages/sdk failed");
}

export async function seedSdkFixtures(dataDir: string): Promise<SdkFixtures> {
  // The run's migrated template (tests/helpers/pglite-template.ts): no initdb, no migrations.
  await copyMigratedDatabase(dataDir);
  const open = await openDatabase({ kind: "pglite", dataDir }, { shortLived: true });
  const db = open.prisma;
  let fx: Omit<SdkFixtures, "serviceCredential">;
  try {
    const stamp = Date.now();
    const org = await organizationRepository.create(db, {
      name: `SDK ${stamp}`,
      email: `sdk-${stamp}@example.test`,
      plan: "ENTERPRISE",
      maxActiveKeys: 100,
    });
    const mk = async (
      name: string,
      scopes: string[],
      rateLimitPerMinute = 1000,
      allowedCidrs?: string[],
    ) => {
      const r = await createKey(
        db,
        {
          organizationId: org.id,
          name,
          environment: "live",
          scopes,
          rateLimitPerMinute,
          allowedCidrs,
        },
        actor,
      );
      return { key: r.key, id: r.apiKey.id };
    };
    // Customer keys hold only the route's own scope: no usage:write, yet they are metered.
    const keys = {
      express: await mk("express", ["chat:write"]),
      hono: await mk("hono", ["chat:write"]),
      next: await mk("next", ["chat:write"]),
      shutdown: await mk("shutdown", ["chat:write"]),
      outage: await mk("outage", ["chat:write"]),
      cached: await mk("cached", ["chat:write"], 1),
      limited: await mk("limited", ["chat:write"], 2),
      revoked: await mk("revoked", ["chat:write"]),
      noScope: await mk("no-scope", ["chat:read"]),
      // IP allowlists: loopback (where the tests' clients are), and a network they are not in.
      loopbackOnly: await mk("loopback-only", ["chat:write"], 1000, ["127.0.0.0/8", "::1/128"]),
      elsewhere: await mk("elsewhere", ["chat:write"], 1000, ["203.0.113.0/24"]),
    };
    await revokeKey(db, org.id, keys.revoked.id, { reason: "fixture" }, actor);
    fx = {
      orgId: org.id,
      reader: await mk("reader", ["usage:read"]),
      admin: await mk("admin", ["keys:read", "keys:write"]),
      keys,
    };
  } finally {
    await open.close();
  }
  const cli = await runCli(["service:create", "--name", "sdk-tests", "--json"], {
    KEYWARD_DATA_DIR: dataDir,
    DATABASE_URL: undefined,
  });
  if (cli.code !== 0) throw new Error(`service:create failed: ${cli.stderr}`);
  const { secret } = JSON.parse(cli.stdout) as { secret: string };
  return { ...fx, serviceCredential: secret };
}

export interface ExampleApp {
  url: string;
  proc: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function spawnApp(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; ready: RegExp; port: number },
  readyTimeoutMs = 120_000,
): Promise<ExampleApp> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, PORT: String(opts.port) };
  const proc = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (c) => resolve(c)));
  const app: ExampleApp = {
    url: `http://127.0.0.1:${opts.port}`,
    proc,
    logs: () => out,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + readyTimeoutMs;
    const tick = setInterval(() => {
      if (opts.ready.test(out)) {
        clearInterval(tick);
        resolve(app);
      } else if (proc.exitCode !== null || Date.now() > deadline) {
        clearInterval(tick);
        proc.kill("SIGKILL");
        reject(new Error(`${args.join(" ")} did not start:\n${out}`));
      }
    }, 50);
  });
}

/** examples/express or examples/hono as its own Node process (tsx, as `npx tsx` would). */
export async function startExample(
  name: "express" | "hono",
  env: Record<string, string>,
): Promise<ExampleApp> {
  const port = await freePort();
  return spawnApp(process.execPath, ["--import", "tsx", `examples/${name}/server.ts`], {
    cwd: root,
    env,
    ready: /ready on/,
    port,
  });
}

/**
 * examples/nextjs as a real Next.js app under `next dev` (Turbopack): about 16 s to its first
 * answer here, where `next build` alone took 105 s (docs in examples/README.md).
 */
export async function startNextExample(env: Record<string, string>): Promise<ExampleApp> {
  const port = await freePort();
  const app = await spawnApp(
    process.execPath,
    [
      path.join(root, "node_modules/next/dist/bin/next"),
      "dev",
      "-p",
      String(port),
      "-H",
      "127.0.0.1",
    ],
    {
      cwd: path.join(root, "examples/nextjs"),
      env: { ...env, NEXT_TELEMETRY_DISABLED: "1" },
      ready: /Ready in|✓ Ready/,
      port,
    },
  );
  // The first request compiles the route: do it here, not inside a test's time limit.
  for (let i = 0; i < 60; i++) {
    const r = await fetch(`${app.url}/api/chat`, { method: "POST" }).catch(() => null);
    if (r?.status === 401) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return app;
}
