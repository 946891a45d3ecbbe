// PostgreSQL becoming unreachable under a running Keyward (PRODUCT.md section 8): the app reaches
// its own database through a TCP proxy run by this test, and the test closes the proxy mid-run
// (existing connections cut, new ones refused: what a crashed or restarting server looks like),
// then opens it again on the same port. The shared PostgreSQL server itself is never touched.
import { randomUUID } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "@/tests/helpers/db";
import { freePort, runCli, startServer, type TestServer } from "@/tests/helpers/server";

const enabled = Boolean(process.env.DATABASE_URL);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy to the PostgreSQL server that can be cut and restored on the same port. */
function pgProxy(port: number, target: URL) {
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  return {
    async open() {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => {});
        }
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        server?.once("error", reject);
        server?.listen(port, "127.0.0.1", () => resolve());
      });
    },
    /** New connections refused, every open one cut. */
    async close() {
      const s = server;
      server = undefined;
      const closed = new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe.skipIf(!enabled)("PostgreSQL unreachable under Keyward", () => {
  let server: TestServer;
  let database: { url: string; drop(): Promise<void> };
  let proxy: ReturnType<typeof pgProxy>;
  let admin: { id: string; key: string };
  let other: { id: string; key: string };

  async function cli(args: string[]): Promise<Record<string, unknown>> {
    // The CLI goes straight to the database, not through the proxy.
    const r = await runCli([...args, "--json"], {
      DATABASE_URL: database.url,
      REDIS_URL: undefined,
    });
    if (r.code !== 0) throw new Error(`keyward ${args[0]} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  async function call(method: string, path: string, key?: string, body?: unknown) {
    const started = performance.now();
    const r = await fetch(server.url + path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    // biome-ignore lint/suspicious/noExplicitAny: fields checked one by one
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return {
      status: r.status,
      body: json,
      type: r.headers.get("content-type"),
      ms: performance.now() - started,
    };
  }

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const target = new URL(database.url);
    const port = await freePort();
    proxy = pgProxy(port, target);
    await proxy.open();
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${port}`;
    server = await startServer({
      readyTimeoutMs: 240_000,
      env: {
        DATABASE_URL: viaProxy.toString(),
        REDIS_URL: undefined,
        RATE_LIMIT_STORE: undefined,
      },
    });
    const org = await cli([
      "org:create",
      ...["--name", "Database outage", "--email", `pg-${randomUUID()}@example.test`],
      ...["--plan", "ENTERPRISE"],
    ]);
    const mk = async (name: string) => {
      const k = await cli([
        "keys:create",
        ...["--org", String(org.slug), "--name", name, "--env", "live"],
        ...["--scopes", "keys:read,keys:write"],
      ]);
      return { id: String(k.id), key: String(k.key) };
    };
    admin = await mk("admin");
    other = await mk("never verified before the outage");
  }, 400_000);

  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it("with the database up: health ok, verify and create work", async () => {
    // Right after the start the first checks may still be connecting: wait for ok.
    const deadline = Date.now() + 15_000;
    let h = await call("GET", "/api/v1/health");
    while (h.status !== 200 && Date.now() < deadline) {
      await sleep(300);
      h = await call("GET", "/api/v1/health");
    }
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: "ok", dependencies: { database: "ok" } });
    expect(
      (await call("POST", "/api/v1/keys/verify", undefined, { key: admin.key })).body.code,
    ).toBe("VALID");
    const created = await call("POST", "/api/v1/keys", admin.key, {
      name: "before",
      environment: "live",
    });
    expect(created.status).toBe(201);
  });

  it("database cut: a cached key still verifies, writes answer 503 DEPENDENCY_UNAVAILABLE fast", async () => {
    // Verified just now, so in the key cache (it lives 1 s), then the database goes away.
    expect(
      (await call("POST", "/api/v1/keys/verify", undefined, { key: admin.key })).body.code,
    ).toBe("VALID");
    await proxy.close();
    const cached = await call("POST", "/api/v1/keys/verify", undefined, { key: admin.key });
    expect(cached.status).toBe(200);
    expect(cached.body.code).toBe("VALID");

    // A write by that (still cached) key: the database refuses to be reached -> 503, not 500.
    const write = await call("POST", "/api/v1/keys", admin.key, {
      name: "during",
      environment: "live",
    });
    expect(write.status).toBe(503);
    expect(write.type).toContain("application/problem+json");
    expect(write.body.code).toBe("DEPENDENCY_UNAVAILABLE");
    expect(write.ms).toBeLessThan(5_000);
    expect(JSON.stringify(write.body)).not.toMatch(/prisma|127\.0\.0\.1|ECONN/i);
  });

  it("database cut: a key not in the cache is answered 503 quickly, never a hang or a 500", async () => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await call("POST", "/api/v1/keys/verify", undefined, { key: other.key });
      expect(r.status).toBe(503);
      expect(r.body.code).toBe("DEPENDENCY_UNAVAILABLE");
      times.push(r.ms);
    }
    expect(Math.max(...times)).toBeLessThan(5_000);
    await sleep(1_100); // the admin key's cache entry is gone too
    const revoke = await call("DELETE", `/api/v1/keys/${other.id}`, admin.key, { reason: "x" });
    expect(revoke.status).toBe(503);
    expect(revoke.body.code).toBe("DEPENDENCY_UNAVAILABLE");
    expect(revoke.ms).toBeLessThan(5_000);
  });

  it("database cut: health answers 503 degraded naming the database, within a bounded time", async () => {
    await sleep(1_100); // past the health cache
    const h = await call("GET", "/api/v1/health");
    expect(h.ms).toBeLessThan(3_000);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({
      status: "degraded",
      database: "unavailable",
      dependencies: { database: "unavailable", redis: "not_configured" },
    });
    // Polled hard, it answers from its one-second cache: no pile-up of probes.
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => call("GET", "/api/v1/health")),
    );
    expect(burst.every((r) => r.status === 503 && r.ms < 3_000)).toBe(true);
  });

  it("database back: health ok, writes and verify work again without a restart", async () => {
    await proxy.open();
    const deadline = Date.now() + 15_000;
    let h = await call("GET", "/api/v1/health");
    while (h.status !== 200 && Date.now() < deadline) {
      await sleep(200);
      h = await call("GET", "/api/v1/health");
    }
    expect(h.body).toMatchObject({ status: "ok", dependencies: { database: "ok" } });
    const created = await call("POST", "/api/v1/keys", admin.key, {
      name: "after",
      environment: "live",
    });
    expect(created.status).toBe(201);
    expect(
      (await call("POST", "/api/v1/keys/verify", undefined, { key: created.body.key })).body.code,
    ).toBe("VALID");
    expect(
      (await call("POST", "/api/v1/keys/verify", undefined, { key: other.key })).body.code,
    ).toBe("VALID");
    expect(server.proc.exitCode).toBeNull();
  });
});
