// The embedded database has one owner: with real processes, the CLI talks to the
// running app over its operator socket, a second app refuses, and shutdowns and
// crashes lose no acknowledged write. (PRODUCT.md section 7, TOOLCHAIN.md.)
// The CLI runs bundled once for the run (tests/helpers/cli-bundle.ts, made in
// tests/helpers/global-setup.ts: the same code without tsx's start-up, which the dozens of runs
// here paid each time); the first command runs `tsx scripts/cli.ts`, the operator's entry.
// Each folder starts from the run's migrated database (migratedDataDir): what is tested here is
// who owns a folder, not how one is created (about 10 s of CPU per new folder).

import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLI_ENTRY,
  migratedDataDir,
  runCli,
  startServer,
  type TestServer,
} from "../helpers/server";

const embedded = { DATABASE_URL: undefined, REDIS_URL: undefined } as Record<
  string,
  string | undefined
>;

async function cli(dataDir: string, ...args: string[]) {
  return runCli(args, { ...embedded, KEYWARD_DATA_DIR: dataDir });
}
async function cliJson<T>(dataDir: string, ...args: string[]): Promise<T> {
  const r = await cli(dataDir, ...args, "--json");
  if (r.code !== 0) throw new Error(`cli ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The app's own writes: keys created over HTTP by a keys:write key, counted when answered 201. */
function appWriter(server: TestServer, adminKey: string) {
  let acknowledged = 0;
  let failures = 0;
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      const res = await fetch(`${server.url}/api/v1/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `app-${i++}`, environment: "live", scopes: [] }),
      }).catch(() => null);
      if (res?.status === 201) acknowledged++;
      else failures++;
      await res?.arrayBuffer().catch(() => {});
    }
  })();
  return {
    get acknowledged() {
      return acknowledged;
    },
    get failures() {
      return failures;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function countKeys(dataDir: string, org: string): Promise<number> {
  const r = await cliJson<{ keys: unknown[] }>(
    dataDir,
    "keys:list",
    "--org",
    org,
    "--limit",
    "1000",
  );
  return r.keys.length;
}

describe("embedded database owner", { timeout: 240_000 }, () => {
  let dataDir: string;
  let server: TestServer;
  let adminKey: string;

  beforeAll(async () => {
    dataDir = await migratedDataDir();
    server = await startServer({ dataDir, env: embedded });
    // An enterprise organization for the app's writes (through the operator's entry, tsx), and a
    // key that may write keys.
    const busy = await runCli(
      [
        "org:create",
        "--name",
        "Busy",
        "--email",
        "busy@example.com",
        "--plan",
        "ENTERPRISE",
        "--slug",
        "busy",
        "--json",
      ],
      { ...embedded, KEYWARD_DATA_DIR: dataDir },
      { script: CLI_ENTRY },
    );
    expect(busy.code, busy.stderr).toBe(0);
    expect(JSON.parse(busy.stdout)).toMatchObject({ slug: "busy" });
    const k = await cliJson<{ key: string }>(
      dataDir,
      "keys:create",
      "--org",
      "busy",
      "--name",
      "admin",
      "--env",
      "live",
      "--scopes",
      "keys:read,keys:write",
    );
    adminKey = k.key;
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("runs CLI commands inside the app: the app sees the organization and the key", async () => {
    const org = await cliJson<{ id: string; slug: string }>(
      dataDir,
      "org:create",
      "--name",
      "Acme",
      "--email",
      "ops@acme.test",
    );
    expect(org.slug).toBe("acme");
    const created = await cliJson<{ id: string; key: string; prefix: string; hint: string }>(
      dataDir,
      "keys:create",
      "--org",
      "acme",
      "--name",
      "x",
      "--env",
      "test",
      "--scopes",
      "keys:read",
    );
    expect(created.key).toMatch(/^pk_test_[A-Za-z0-9_-]{43}$/);
    // The app itself answers for the key the CLI created.
    const me = await fetch(`${server.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${created.key}` },
    });
    expect(me.status).toBe(200);
    const body = await me.json();
    expect(body.id).toBe(created.id);
    // The socket the lock names is private to whoever can read the data folder.
    const lock = JSON.parse(readFileSync(path.join(dataDir, "keyward.lock"), "utf8"));
    expect(lock.pid).toBe(server.proc.pid);
    expect(path.dirname(lock.socket)).toBe(dataDir);
    expect(statSync(lock.socket).isSocket()).toBe(true);
    expect(statSync(lock.socket).mode & 0o777).toBe(0o600);
  });

  it("a failing CLI command rolls back only its own work while the app keeps writing", async () => {
    await cliJson(
      dataDir,
      "org:create",
      "--name",
      "Small",
      "--email",
      "small@example.com",
      "--plan",
      "FREE",
      "--slug",
      "small",
    );
    for (let i = 0; i < 5; i++)
      await cliJson(dataDir, "keys:create", "--org", "small", "--name", `k${i}`, "--env", "live");
    const before = await countKeys(dataDir, "busy");
    const writer = appWriter(server, adminKey);
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(
        await cli(dataDir, "keys:create", "--org", "small", "--name", "over", "--env", "live"),
      );
    await writer.stop();
    for (const r of results) {
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(await countKeys(dataDir, "small")).toBe(5);
    expect(writer.acknowledged).toBeGreaterThan(0);
    expect(await countKeys(dataDir, "busy")).toBe(before + writer.acknowledged);
  });

  it("20 CLI runs in a row leave exactly 20 new keys, and every app write", async () => {
    await cliJson(
      dataDir,
      "org:create",
      "--name",
      "Twenty",
      "--email",
      "twenty@example.com",
      "--plan",
      "PRO",
      "--slug",
      "twenty",
    );
    const before = await countKeys(dataDir, "busy");
    const writer = appWriter(server, adminKey);
    for (let i = 0; i < 20; i++) {
      const r = await cli(
        dataDir,
        "keys:create",
        "--org",
        "twenty",
        "--name",
        `cli-${i}`,
        "--env",
        "test",
      );
      expect(r.code, r.stderr).toBe(0);
    }
    await writer.stop();
    expect(await countKeys(dataDir, "twenty")).toBe(20);
    expect(await countKeys(dataDir, "busy")).toBe(before + writer.acknowledged);
  });

  it("a second start on the same folder refuses in one line and the first keeps serving", async () => {
    const second = await startServer({ dataDir, env: embedded, expectExit: true });
    expect(await second.exited).not.toBe(0);
    const lines = second.logs().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`owned by pid`);
    expect(lines[0]).toContain("DATABASE_URL");
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
  });
});

describe("embedded database shutdown and crash", { timeout: 240_000 }, () => {
  it("SIGTERM closes cleanly: no lock or socket left, every row there after a restart", async () => {
    const dataDir = await migratedDataDir();
    let server = await startServer({ dataDir, env: embedded });
    await cliJson(
      dataDir,
      "org:create",
      "--name",
      "Term",
      "--email",
      "term@example.com",
      "--plan",
      "PRO",
      "--slug",
      "term",
    );
    const k = await cliJson<{ key: string }>(
      dataDir,
      "keys:create",
      "--org",
      "term",
      "--name",
      "w",
      "--env",
      "live",
      "--scopes",
      "keys:write,keys:read",
    );
    const writer = appWriter(server, k.key);
    await new Promise((r) => setTimeout(r, 1500));
    await writer.stop();
    const started = Date.now();
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(path.join(dataDir, "keyward.lock"))).toBe(false);
    expect(readdirSync(dataDir).filter((f) => f.startsWith("keyward."))).toEqual([]);
    server = await startServer({ dataDir, env: embedded });
    try {
      expect(await countKeys(dataDir, "term")).toBe(1 + writer.acknowledged);
    } finally {
      await server.stop();
    }
  }, 240_000);

  it("after kill -9 under load the next start takes over the stale lock with every acknowledged write", async () => {
    const dataDir = await migratedDataDir();
    let server = await startServer({ dataDir, env: embedded });
    await cliJson(
      dataDir,
      "org:create",
      "--name",
      "Crash",
      "--email",
      "crash@example.com",
      "--plan",
      "PRO",
      "--slug",
      "crash",
    );
    const k = await cliJson<{ key: string }>(
      dataDir,
      "keys:create",
      "--org",
      "crash",
      "--name",
      "w",
      "--env",
      "live",
      "--scopes",
      "keys:write,keys:read",
    );
    const writer = appWriter(server, k.key);
    await new Promise((r) => setTimeout(r, 2000));
    server.proc.kill("SIGKILL");
    await server.exited;
    await writer.stop();
    expect(existsSync(path.join(dataDir, "keyward.lock"))).toBe(true);
    server = await startServer({ dataDir, env: embedded });
    try {
      // Every 201 the app sent was committed; a request cut mid-flight may or may not be.
      const n = await countKeys(dataDir, "crash");
      expect(n).toBeGreaterThanOrEqual(1 + writer.acknowledged);
      expect(n).toBeLessThanOrEqual(1 + writer.acknowledged + 1);
    } finally {
      await server.stop();
    }
  }, 240_000);
});

describe("stale locks: the owner's socket decides, not a pid", { timeout: 240_000 }, () => {
  const staleLock = (dataDir: string, pid: number) =>
    writeFileSync(
      path.join(dataDir, "keyward.lock"),
      JSON.stringify({
        pid,
        socket: path.join(dataDir, "keyward.0123456789abcdef.sock"),
        token: "0123456789abcdef",
      }),
    );

  it("the CLI and npm start take over locks naming pid 1 or a dead pid with no socket", async () => {
    const dataDir = await migratedDataDir();
    // pid 1 is alive in every container; an earlier Keyward's pid-only lock named it too.
    writeFileSync(path.join(dataDir, "keyward.lock"), "1\n");
    const org = await cliJson<{ slug: string }>(
      dataDir,
      "org:create",
      "--name",
      "Stale",
      "--email",
      "stale@example.com",
    );
    expect(org.slug).toBe("stale");
    expect(existsSync(path.join(dataDir, "keyward.lock"))).toBe(false);

    staleLock(dataDir, 1);
    const listed = await cliJson<{ keys: unknown[] }>(dataDir, "keys:list", "--org", "stale");
    expect(listed.keys).toEqual([]);

    const dead = spawn("true");
    await new Promise((r) => dead.once("exit", r));
    staleLock(dataDir, dead.pid as number);
    const server = await startServer({ dataDir, env: embedded });
    try {
      const lock = JSON.parse(readFileSync(path.join(dataDir, "keyward.lock"), "utf8"));
      expect(lock.pid).toBe(server.proc.pid);
      // The CLI goes through the new owner, which sees what the CLI wrote before.
      const k = await cliJson<{ key: string }>(
        dataDir,
        "keys:create",
        "--org",
        "stale",
        "--name",
        "after",
        "--env",
        "test",
      );
      const me = await fetch(`${server.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${k.key}` },
      });
      expect(me.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
