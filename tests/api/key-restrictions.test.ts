// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// Key restrictions over real HTTP (PRODUCT.md section 11): allowedCidrs, externalId and meta on
// create/PATCH/GET and in verify; verify's IP_NOT_ALLOWED spends no rate limit and no quota; a key
// calling Keyward itself is held to its allowlist by its own address; the externalId filter stays
// inside the organization; the organization's key policy answers 422 naming the rule on create and
// rotate. Runs on the embedded database always and on PostgreSQL too when DATABASE_URL is set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenDatabase, openDatabase } from "@/lib/db";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { createKey } from "@/lib/services/keys";
import { createPostgresDatabase } from "@/tests/helpers/db";
import { migratedDataDir, startServer, type TestServer } from "@/tests/helpers/server";

const DAY = 86_400_000;
const operator: Actor = { type: "system", id: "restriction-tests" };
const ALL = ["keys:read", "keys:write", "usage:read", "usage:write"];

async function seed(db: OpenDatabase["prisma"]) {
  const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const org = (name: string, extra: { monthlyQuota?: number } = {}) =>
    organizationRepository.create(db, {
      name: `${name} ${stamp}`,
      email: `${name.toLowerCase()}-${stamp}@example.test`,
      plan: "ENTERPRISE",
      maxActiveKeys: 100,
      ...extra,
    });
  const a = await org("Alpha");
  const b = await org("Beta");
  const q = await org("Quota", { monthlyQuota: 2 });
  const p = await org("Policy");
  const mk = async (
    organizationId: string,
    name: string,
    extra: Partial<Parameters<typeof createKey>[1]> = {},
  ) => {
    const r = await createKey(
      db,
      { organizationId, name, environment: "live", scopes: ALL, ...extra },
      operator,
    );
    return { key: r.key, id: r.apiKey.id };
  };
  const fx = {
    adminA: await mk(a.id, "admin-a"),
    fenced: await mk(a.id, "fenced", {
      scopes: ["keys:read"],
      allowedCidrs: ["203.0.113.0/24", "2001:db8::/32"],
      externalId: "user_42",
      meta: { plan: "pro", seats: 3 },
    }),
    // Holds keys:write but may be used only from 203.0.113.0/24: it grants no wider fence.
    fencedWriter: await mk(a.id, "fenced-writer", { allowedCidrs: ["203.0.113.0/24"] }),
    adminB: await mk(b.id, "admin-b"),
    sameExternalInB: await mk(b.id, "b-user-42", { externalId: "user_42" }),
    quotaFenced: await mk(q.id, "quota-fenced", {
      rateLimitPerMinute: 3,
      allowedCidrs: ["198.51.100.0/24"],
    }),
    // Made before the policy, expiring in 60 days: past the policy's 30 but within its own.
    adminP: await mk(p.id, "admin-p", { expiresAt: new Date(Date.now() + 60 * DAY) }),
    // Never expires, made before the policy: rotates others within its ceiling.
    rootP: await mk(p.id, "root-p"),
    foreverP: await mk(p.id, "forever-p", { scopes: [] }),
    foreverTestP: await mk(p.id, "forever-test-p", { scopes: [], environment: "test" }),
  };
  // The policy comes after the keys: keys made before it stand, their rotation does not.
  await organizationRepository.update(db, p.id, {
    maxKeyLifetimeDays: 30,
    keyExpiryRequired: true,
    liveKeysAdminsOnly: true,
  });
  return fx;
}
type Fixtures = Awaited<ReturnType<typeof seed>>;

interface Target {
  name: string;
  start(): Promise<{ server: TestServer; fx: Fixtures }>;
}

// X-Forwarded-For names the client here (one trusted proxy in front), so a test picks its address.
const PROXY = { KEYWARD_TRUST_PROXY: "1" };
const targets: Target[] = [
  {
    name: "embedded",
    async start() {
      const dataDir = await migratedDataDir();
      const open = await openDatabase({ kind: "pglite", dataDir }, { shortLived: true });
      let fx: Fixtures;
      try {
        fx = await seed(open.prisma);
      } finally {
        await open.close();
      }
      const server = await startServer({
        dataDir,
        env: { DATABASE_URL: undefined, REDIS_URL: undefined, ...PROXY },
      });
      return { server, fx };
    },
  },
];
if (process.env.DATABASE_URL) {
  targets.push({
    name: "postgres",
    async start() {
      const { url, drop } = await createPostgresDatabase();
      const open = await openDatabase({ kind: "postgres", url });
      let fx: Fixtures;
      try {
        fx = await seed(open.prisma);
      } finally {
        await open.close();
      }
      const server = await startServer({ env: { DATABASE_URL: url, ...PROXY } });
      server.exited.then(() => drop().catch(() => {}));
      return { server, fx };
    },
  });
}

describe.each(targets.map((t) => [t.name, t] as const))("key restrictions on %s", (_n, target) => {
  let server: TestServer;
  let fx: Fixtures;

  beforeAll(async () => {
    ({ server, fx } = await target.start());
  }, 240_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function call(
    method: string,
    path: string,
    opts: { key?: string; body?: unknown; ip?: string } = {},
  ) {
    const headers: Record<string, string> = {};
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    if (opts.ip) headers["x-forwarded-for"] = opts.ip;
    const res = await fetch(server.url + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      body: (text ? JSON.parse(text) : null) as any,
    };
  }
  const verify = (key: string, ip?: string) =>
    call("POST", "/api/v1/keys/verify", { body: ip === undefined ? { key } : { key, ip } });

  function refused(r: Awaited<ReturnType<typeof call>>, status: number, code: string) {
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.type).toContain("application/problem+json");
    expect(r.body).toMatchObject({ status, code });
  }

  describe("fields on create, PATCH and GET", () => {
    it("creates a key with networks (normalized), an external id and meta", async () => {
      const r = await call("POST", "/api/v1/keys", {
        key: fx.adminA.key,
        body: {
          name: "restricted",
          allowedCidrs: ["10.1.2.3/8", "2001:DB8::1", "::ffff:192.0.2.0/120", "10.0.0.0/8"],
          externalId: "team:payments",
          meta: { tier: "gold", nested: { a: [1, 2] } },
        },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.allowedCidrs).toEqual(["10.0.0.0/8", "2001:db8::1/128", "192.0.2.0/24"]);
      expect(r.body.externalId).toBe("team:payments");
      expect(r.body.meta).toEqual({ tier: "gold", nested: { a: [1, 2] } });
      const got = await call("GET", `/api/v1/keys/${r.body.id}`, { key: fx.adminA.key });
      expect(got.body).toMatchObject({
        allowedCidrs: r.body.allowedCidrs,
        externalId: "team:payments",
        meta: r.body.meta,
      });
    });

    it("a key without them answers empty and null", async () => {
      const got = await call("GET", `/api/v1/keys/${fx.adminA.id}`, { key: fx.adminA.key });
      expect(got.body).toMatchObject({ allowedCidrs: [], externalId: null, meta: null });
    });

    it.each([
      ["a bad network", { allowedCidrs: ["10.0.0.0/8", "10.0.0.0/33"] }, "allowedCidrs.1"],
      ["a host name", { allowedCidrs: ["example.com"] }, "allowedCidrs.0"],
      [
        "101 networks",
        { allowedCidrs: Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`) },
        "allowedCidrs",
      ],
      ["an external id with a space", { externalId: "has space" }, "externalId"],
      ["a 129-character external id", { externalId: "x".repeat(129) }, "externalId"],
      ["meta that is an array", { meta: [1, 2] }, "meta"],
      ["meta over 4 KiB", { meta: { blob: "x".repeat(4096) } }, "meta"],
      ["meta with NUL", { meta: { a: "x\u0000y" } }, "meta"],
    ])("refuses %s with 422 naming the field", async (_what, fields, path) => {
      const r = await call("POST", "/api/v1/keys", {
        key: fx.adminA.key,
        body: { name: "bad", ...fields },
      });
      refused(r, 422, "VALIDATION_FAILED");
      expect(r.body.issues.map((i: any) => i.path)).toContain(path);
    });

    it("PATCH sets and clears them", async () => {
      const made = await call("POST", "/api/v1/keys", {
        key: fx.adminA.key,
        body: { name: "patched" },
      });
      const path = `/api/v1/keys/${made.body.id}`;
      const set = await call("PATCH", path, {
        key: fx.adminA.key,
        body: { allowedCidrs: ["192.0.2.1"], externalId: "u1", meta: { x: 1 } },
      });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body).toMatchObject({
        allowedCidrs: ["192.0.2.1/32"],
        externalId: "u1",
        meta: { x: 1 },
      });
      const cleared = await call("PATCH", path, {
        key: fx.adminA.key,
        body: { allowedCidrs: [], externalId: null, meta: null },
      });
      expect(cleared.body).toMatchObject({ allowedCidrs: [], externalId: null, meta: null });
      refused(
        await call("PATCH", path, { key: fx.adminA.key, body: { allowedCidrs: ["nope"] } }),
        422,
        "VALIDATION_FAILED",
      );
    });
  });

  describe("verify", () => {
    it.each([
      ["inside an IPv4 network", "203.0.113.77", "VALID"],
      ["the IPv4-mapped form", "::ffff:203.0.113.77", "VALID"],
      ["inside an IPv6 network", "2001:db8:1::5", "VALID"],
      ["outside", "198.51.100.1", "IP_NOT_ALLOWED"],
      ["outside, IPv6", "2001:db9::1", "IP_NOT_ALLOWED"],
      ["not an address", "localhost", "IP_NOT_ALLOWED"],
      ["missing", undefined, "IP_NOT_ALLOWED"],
    ])("%s: %s", async (_what, ip, code) => {
      const r = await verify(fx.fenced.key, ip);
      expect(r.status).toBe(200);
      expect(r.body.code).toBe(code);
      expect(r.body.valid).toBe(code === "VALID");
      // The owner and meta come back either way, with the key's id.
      expect(r.body).toMatchObject({
        keyId: fx.fenced.id,
        externalId: "user_42",
        meta: { plan: "pro", seats: 3 },
      });
    });

    it("a key without an allowlist ignores ip and answers null owner and meta", async () => {
      const r = await verify(fx.adminB.key, "198.51.100.1");
      expect(r.body).toMatchObject({ valid: true, code: "VALID", externalId: null, meta: null });
      expect((await verify(fx.adminB.key)).body.code).toBe("VALID");
    });

    it("IP_NOT_ALLOWED spends no rate limit and no quota", async () => {
      // Limit 3 per minute, monthly quota 2: five refusals first.
      for (let i = 0; i < 5; i++) {
        const r = await verify(fx.quotaFenced.key, "203.0.113.1");
        expect(r.body.code).toBe("IP_NOT_ALLOWED");
        expect(r.body.ratelimit).toBeNull();
      }
      const first = await verify(fx.quotaFenced.key, "198.51.100.9");
      expect(first.body).toMatchObject({ code: "VALID", ratelimit: { limit: 3, remaining: 2 } });
      const second = await verify(fx.quotaFenced.key, "198.51.100.9");
      expect(second.body).toMatchObject({ code: "VALID", ratelimit: { remaining: 1 } });
      // Two VALID answers used the quota of 2, the five refusals none of it.
      expect((await verify(fx.quotaFenced.key, "198.51.100.9")).body.code).toBe("QUOTA_EXCEEDED");
    });
  });

  describe("routes the key calls itself", () => {
    it("answer from inside its networks", async () => {
      const r = await call("GET", "/api/v1/me", { key: fx.fenced.key, ip: "203.0.113.5" });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const list = await call("GET", "/api/v1/keys?limit=1", {
        key: fx.fenced.key,
        ip: "2001:db8::9",
      });
      expect(list.status).toBe(200);
    });

    it("refuse 403 IP_NOT_ALLOWED from outside", async () => {
      refused(
        await call("GET", "/api/v1/me", { key: fx.fenced.key, ip: "192.0.2.1" }),
        403,
        "IP_NOT_ALLOWED",
      );
      refused(
        await call("GET", "/api/v1/keys", { key: fx.fenced.key, ip: "192.0.2.1" }),
        403,
        "IP_NOT_ALLOWED",
      );
    });
  });

  describe("a fenced key creating and changing keys (privilege ceiling)", () => {
    const from = { key: "", ip: "203.0.113.5" };
    it("gives its networks to a key created without any, and grants narrower ones", async () => {
      const inherit = await call("POST", "/api/v1/keys", {
        ...from,
        key: fx.fencedWriter.key,
        body: { name: "child", environment: "live", scopes: ["keys:read"] },
      });
      expect(inherit.status, JSON.stringify(inherit.body)).toBe(201);
      expect(inherit.body.allowedCidrs).toEqual(["203.0.113.0/24"]);
      const narrower = await call("POST", "/api/v1/keys", {
        ...from,
        key: fx.fencedWriter.key,
        body: { name: "child2", environment: "live", allowedCidrs: ["203.0.113.128/25"] },
      });
      expect(narrower.status, JSON.stringify(narrower.body)).toBe(201);
      expect(narrower.body.allowedCidrs).toEqual(["203.0.113.128/25"]);
    });

    it("refuses anywhere or a wider network, on create and on PATCH", async () => {
      for (const allowedCidrs of [[], ["0.0.0.0/0"], ["203.0.113.0/23"], ["2001:db8::/32"]]) {
        refused(
          await call("POST", "/api/v1/keys", {
            ...from,
            key: fx.fencedWriter.key,
            body: { name: "wider", environment: "live", allowedCidrs },
          }),
          403,
          "PRIVILEGE_CEILING",
        );
        refused(
          await call("PATCH", `/api/v1/keys/${fx.fenced.id}`, {
            ...from,
            key: fx.fencedWriter.key,
            body: { allowedCidrs },
          }),
          403,
          "PRIVILEGE_CEILING",
        );
      }
    });
  });

  describe("the externalId filter", () => {
    it("lists only this organization's keys with that id", async () => {
      const a = await call("GET", "/api/v1/keys?externalId=user_42", { key: fx.adminA.key });
      expect(a.status).toBe(200);
      expect(a.body.data.map((k: any) => k.id)).toEqual([fx.fenced.id]);
      const b = await call("GET", "/api/v1/keys?externalId=user_42", { key: fx.adminB.key });
      expect(b.body.data.map((k: any) => k.id)).toEqual([fx.sameExternalInB.id]);
      const none = await call("GET", "/api/v1/keys?externalId=nobody", { key: fx.adminA.key });
      expect(none.body.data).toEqual([]);
    });

    it("refuses a malformed filter with 422", async () => {
      const r = await call("GET", "/api/v1/keys?externalId=a%20b", { key: fx.adminA.key });
      refused(r, 422, "VALIDATION_FAILED");
      expect(r.body.issues[0].path).toBe("query.externalId");
    });

    it("another organization's key stays missing, restrictions or not", async () => {
      const r = await call("GET", `/api/v1/keys/${fx.fenced.id}`, { key: fx.adminB.key });
      refused(r, 404, "NOT_FOUND");
      const patch = await call("PATCH", `/api/v1/keys/${fx.fenced.id}`, {
        key: fx.adminB.key,
        body: { allowedCidrs: [] },
      });
      refused(patch, 404, "NOT_FOUND");
    });
  });

  describe("the organization's key policy", () => {
    const soon = () => new Date(Date.now() + 10 * DAY).toISOString();

    it("an API key cannot create a live key: POLICY_LIVE_ADMINS_ONLY", async () => {
      const r = await call("POST", "/api/v1/keys", {
        key: fx.adminP.key,
        body: { name: "live", environment: "live", expiresAt: soon() },
      });
      refused(r, 422, "POLICY_LIVE_ADMINS_ONLY");
      expect(r.body.issues[0].path).toBe("environment");
    });

    it("no expiry: POLICY_EXPIRY_REQUIRED", async () => {
      // A caller that never expires, so its own ceiling allows "no expiry" and the policy speaks.
      const r = await call("POST", "/api/v1/keys", {
        key: fx.rootP.key,
        body: { name: "forever", environment: "test", expiresAt: null },
      });
      refused(r, 422, "POLICY_EXPIRY_REQUIRED");
      expect(r.body.issues[0].path).toBe("expiresAt");
    });

    it("past the longest lifetime: POLICY_MAX_LIFETIME", async () => {
      const r = await call("POST", "/api/v1/keys", {
        key: fx.adminP.key,
        body: {
          name: "long",
          environment: "test",
          expiresAt: new Date(Date.now() + 40 * DAY).toISOString(),
        },
      });
      refused(r, 422, "POLICY_MAX_LIFETIME");
      expect(r.body.issues[0].path).toBe("expiresAt");
      expect(r.body.detail).toContain("30 days");
    });

    it("within the policy: 201", async () => {
      const r = await call("POST", "/api/v1/keys", {
        key: fx.adminP.key,
        body: { name: "ok", environment: "test", expiresAt: soon() },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    });

    it("rotating a key made before the policy, without expiry: 422 naming the rule", async () => {
      const r = await call("POST", `/api/v1/keys/${fx.foreverP.id}/rotate`, {
        key: fx.rootP.key,
        body: { gracePeriod: "none" },
      });
      // A live key, rotated by an API key: the live rule is checked first.
      refused(r, 422, "POLICY_LIVE_ADMINS_ONLY");
      // Nothing changed: the key still works.
      expect((await verify(fx.foreverP.key)).body.code).toBe("VALID");
      const t = await call("POST", `/api/v1/keys/${fx.foreverTestP.id}/rotate`, {
        key: fx.rootP.key,
        body: { gracePeriod: "1h" },
      });
      refused(t, 422, "POLICY_EXPIRY_REQUIRED");
      expect((await verify(fx.foreverTestP.key)).body.code).toBe("VALID");
    });
  });
});
