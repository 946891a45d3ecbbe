// Keyward servers for the benchmarks (the real server.ts through tests/helpers/server.ts), a
// verify key per phase made through the CLI, and the count of what the server metered.
import { randomBytes } from "node:crypto";
import { openDatabase } from "@/lib/db";
import { runCli, startServer, type TestServer } from "@/tests/helpers/server";

export type Backend =
  | { kind: "embedded" }
  | { kind: "postgres"; databaseUrl: string; redisUrl: string };

export interface KeywardServer {
  server: TestServer;
  backend: Backend;
  lean: boolean;
}

/**
 * One Keyward process; embedded gets its own fresh data folder (or `dataDir`, a migrated folder
 * nothing else has open), postgres the given database.
 */
export async function startKeyward(
  backend: Backend,
  opts: {
    lean: boolean;
    env?: Record<string, string | undefined>;
    nodeArgs?: string[];
    dataDir?: string;
  },
): Promise<KeywardServer> {
  const env: Record<string, string | undefined> = {
    KEYWARD_LEAN_LANE: opts.lean ? "1" : "0",
    // The embedded rows use the embedded defaults: no PostgreSQL, no Redis.
    DATABASE_URL: backend.kind === "postgres" ? backend.databaseUrl : undefined,
    REDIS_URL: backend.kind === "postgres" ? backend.redisUrl : undefined,
    RATE_LIMIT_STORE: undefined,
    LOG_LEVEL: undefined,
    ...opts.env,
  };
  const server = await startServer({
    env,
    nodeArgs: opts.nodeArgs,
    dataDir: opts.dataDir,
    readyTimeoutMs: 180_000,
  });
  return { server, backend, lean: opts.lean };
}

/** Where the CLI works: a running server's database, or a folder/database nothing serves. */
export type CliTarget = KeywardServer | { kind: "embedded"; dataDir: string };

function cliEnv(s: CliTarget): Record<string, string | undefined> {
  if ("kind" in s) {
    return { KEYWARD_DATA_DIR: s.dataDir, DATABASE_URL: undefined, REDIS_URL: undefined };
  }
  return s.backend.kind === "postgres"
    ? { DATABASE_URL: s.backend.databaseUrl, REDIS_URL: undefined }
    : { KEYWARD_DATA_DIR: s.server.dataDir, DATABASE_URL: undefined, REDIS_URL: undefined };
}

async function cliJson(s: CliTarget, args: string[]): Promise<Record<string, unknown>> {
  const r = await runCli([...args, "--json"], cliEnv(s));
  if (r.code !== 0) throw new Error(`keyward ${args[0]} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export interface BenchKey {
  key: string;
  keyId: string;
  organizationId: string;
  rateLimitPerMinute: number;
}

/** An ENTERPRISE organization and a live key whose own limit nothing in a run can reach. */
export async function createBenchKey(
  s: CliTarget,
  label: string,
  rateLimitPerMinute = 1_000_000,
  /** More `keys:create` flags (e.g. `--credits N --cidrs ...`). */
  extra: string[] = [],
): Promise<BenchKey> {
  const tag = randomBytes(4).toString("hex");
  const org = await cliJson(s, [
    "org:create",
    "--name",
    `Bench ${label} ${tag}`,
    "--email",
    `bench-${tag}@example.com`,
    "--plan",
    "ENTERPRISE",
  ]);
  const key = await cliJson(s, [
    "keys:create",
    "--org",
    String(org.slug),
    "--name",
    `bench ${label}`,
    "--env",
    "live",
    "--rate-limit",
    String(rateLimitPerMinute),
    ...extra,
  ]);
  return {
    key: String(key.key),
    keyId: String(key.id),
    organizationId: String(org.id),
    rateLimitPerMinute,
  };
}

export interface VerifyAnswer {
  status: number;
  valid: boolean;
  code: string;
  remaining: number | null;
}

export async function verifyOnce(baseUrl: string, key: string): Promise<VerifyAnswer> {
  const r = await fetch(`${baseUrl}/api/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });
  const b = (await r.json()) as {
    valid?: boolean;
    code?: string;
    ratelimit?: { remaining: number } | null;
  };
  return {
    status: r.status,
    valid: b.valid === true,
    code: String(b.code),
    remaining: b.ratelimit?.remaining ?? null,
  };
}

export interface Metered {
  /** ApiKeyUsage rows written for the key. */
  usageRows: number;
  /** The key's requestCount column (moved by the recorder once per batch). */
  requestCount: number;
}

/**
 * Counts what was metered for each key, after the servers stopped (their recorders flush on
 * SIGTERM). Embedded: opens the stopped server's data folder; postgres: the shared database.
 */
export async function countMetered(
  target: { kind: "embedded"; dataDir: string } | { kind: "postgres"; databaseUrl: string },
  keyIds: string[],
): Promise<Map<string, Metered>> {
  const db = await openDatabase(
    target.kind === "embedded"
      ? { kind: "pglite", dataDir: target.dataDir }
      : { kind: "postgres", url: target.databaseUrl },
    { migrate: false },
  );
  try {
    const out = new Map<string, Metered>();
    for (const id of keyIds) {
      const usageRows = await db.prisma.apiKeyUsage.count({ where: { apiKeyId: id } });
      const k = await db.prisma.apiKey.findUnique({
        where: { id },
        select: { requestCount: true },
      });
      out.set(id, { usageRows, requestCount: Number(k?.requestCount ?? 0) });
    }
    return out;
  } finally {
    await db.close();
  }
}
