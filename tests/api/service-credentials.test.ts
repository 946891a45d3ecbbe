// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// Service credentials (PRODUCT.md section 13) over real HTTP against the real server: they report
// usage for customers' keys (each event names its key in keyId; unknown, revoked, expired and
// out-of-scope keys are refused per event), they can do nothing else (every other /api/v1 route
// answers 401/403 problem+json), the CLI creates, lists and revokes them through the running
// app, a revoked one is refused at once, concurrent batches lose nothing, and the plaintext never
// reaches the database, the data folder or the log.
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db";
import type { AnyRoute } from "@/lib/http/route";
import { API_ROUTES } from "@/lib/http/routes";
import { runCli } from "@/tests/helpers/server";
import { type Api, startApi } from "./_setup";

let api: Api;
let orgASlug: string;
/** Secrets handed out during the run (besides the fixtures'): none may be stored or logged. */
const issued: string[] = [];
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  api = await startApi();
  const me = await api.call("GET", "/api/v1/me", { key: api.fx.keys.admin.key });
  expect(me.status).toBe(200);
  orgASlug = me.body.organization.slug;
}, 600_000);
afterAll(async () => {
  await api?.server.stop();
});

/** An address nobody else in the run uses (the server trusts X-Forwarded-For in these tests). */
const randomAddress = () =>
  `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 254) + 1).join(".")}`;

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

const problem = (
  r: { status: number; headers: Headers; body: any },
  status: number,
  code: string,
) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get("content-type")).toContain("application/problem+json");
  expect(r.body).toMatchObject({ status, code, detail: expect.any(String) });
  expect(r.body.requestId).toBe(r.headers.get("x-request-id"));
};

const event = (endpoint: string, keyId: string | undefined, i = 0) => ({
  ...(keyId === undefined ? {} : { keyId }),
  endpoint,
  method: "POST",
  statusCode: 200,
  responseTimeMs: 10 + (i % 7),
  tokens: 3,
  costUsd: "0.000100",
});

const report = (secret: string, events: unknown[], headers: Record<string, string> = {}) =>
  api.call("POST", "/api/v1/usage/events", { key: secret, body: { events }, headers });

/** The usage report of one endpoint (and key) as `key` sees it, once it counts `requests`. */
async function usageOf(key: string, endpoint: string, requests: number, keyId?: string) {
  const q = new URLSearchParams({ endpoint, ...(keyId ? { keyId } : {}) });
  let totals: any;
  for (let i = 0; i < 80; i++) {
    const r = await api.call("GET", `/api/v1/usage?${q}`, { key });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    totals = r.body.totals;
    if (totals.requests >= requests) break;
    await sleep(250);
  }
  return totals;
}

// The API server runs on its embedded folder whatever DATABASE_URL says; so does its CLI.
const cli = (...args: string[]) =>
  runCli(args, { KEYWARD_DATA_DIR: api.server.dataDir, DATABASE_URL: undefined });

describe("a service credential reports usage and does nothing else", () => {
  it("every other /api/v1 route that takes a credential answers 401/403 problem+json", async () => {
    const { admin, liveTarget } = api.fx.keys;
    const keyRoutes = (API_ROUTES as readonly AnyRoute[]).filter(
      (r) => r.auth === "key" && !r.serviceScopes,
    );
    // /me, list, create, get, update, revoke, rotate, the usage report, the webhooks routes:
    // every route but one.
    expect(keyRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      [
        "DELETE /api/v1/keys/{id}",
        "GET /api/v1/keys",
        "GET /api/v1/keys/{id}",
        "GET /api/v1/me",
        "GET /api/v1/usage",
        "PATCH /api/v1/keys/{id}",
        "POST /api/v1/keys",
        "POST /api/v1/keys/{id}/rotate",
        "GET /api/v1/webhooks",
        "POST /api/v1/webhooks",
        "GET /api/v1/webhooks/{id}",
        "PATCH /api/v1/webhooks/{id}",
        "DELETE /api/v1/webhooks/{id}",
        "POST /api/v1/webhooks/{id}/rotate-secret",
        "GET /api/v1/webhooks/{id}/deliveries",
        "POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/resend",
        "POST /api/v1/webhooks/{id}/test",
      ].sort(),
    );
    const bodies: Record<string, unknown> = {
      "POST /api/v1/keys": { name: "by-service", environment: "live", scopes: [] },
      "PATCH /api/v1/keys/{id}": { name: "renamed-by-service" },
      "DELETE /api/v1/keys/{id}": { reason: "by a service" },
      "POST /api/v1/keys/{id}/rotate": {},
      "POST /api/v1/webhooks": { url: "http://127.0.0.1:9/x", eventTypes: ["key.created"] },
      "PATCH /api/v1/webhooks/{id}": { description: "by a service" },
    };
    const before = await api.call("GET", "/api/v1/keys?limit=100", { key: admin.key });
    expect(before.status).toBe(200);
    const credentials: [string, number, string][] = [
      [api.fx.services.all.secret, 403, "FORBIDDEN"],
      [api.fx.services.orgA.secret, 403, "FORBIDDEN"],
      [`ksvc_${"A".repeat(43)}`, 401, "KEY_NOT_FOUND"],
      ["ksvc_not-one", 401, "INVALID_FORMAT"],
    ];
    // Bad credentials spend their address's failed-attempt budget (100 a minute), which other
    // test files' servers share through Redis from 127.0.0.1: this loop's 2 x 2 per route come
    // from an address of its own.
    const from = randomAddress();
    for (const route of keyRoutes) {
      const name = `${route.method} ${route.path}`;
      const url = route.path.replace(/\{\w+\}/g, liveTarget.id);
      for (const [secret, status, code] of credentials) {
        for (const header of ["authorization", "x-api-key"] as const) {
          const headers: Record<string, string> = {
            [header]: header === "authorization" ? `Bearer ${secret}` : secret,
            "x-forwarded-for": from,
          };
          const body = bodies[name];
          const r = await api.call(route.method, url, { headers, body });
          problem(r, status, code);
          expect(r.text).not.toContain(secret.slice(5));
        }
      }
    }
    // Nothing changed: the same keys, the target untouched.
    const after = await api.call("GET", "/api/v1/keys?limit=100", { key: admin.key });
    expect(after.body.items).toEqual(before.body.items);
    const target = await api.call("GET", `/api/v1/keys/${liveTarget.id}`, { key: admin.key });
    expect(target.body).toMatchObject({ name: "live-target", status: "active" });
  });

  it("is never taken in the URL, and verify does not treat it as a key", async () => {
    const secret = api.fx.services.all.secret;
    // An address of its own: see the failed-attempt budget above.
    const own = { "x-forwarded-for": randomAddress() };
    for (const [method, url] of [
      ["POST", `/api/v1/usage/events?token=${secret}`],
      ["POST", `/api/v1/usage/events?x=${secret}`],
      ["GET", `/api/v1/keys/${secret}`],
    ] as const) {
      const body =
        method === "POST" ? { events: [event("/x", api.fx.keys.noScopes.id)] } : undefined;
      const r = await api.call(method, url, { key: secret, body, headers: own });
      problem(r, 400, "BAD_REQUEST");
    }
    const v = await api.call("POST", "/api/v1/keys/verify", {
      body: { key: secret },
      headers: own,
    });
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ valid: false, code: "INVALID_FORMAT", keyId: null });
  });
});

describe("the OpenAPI document", () => {
  it("shows keyId, the per-event key refusals and who may call", async () => {
    const doc = (await api.call("GET", "/api/v1/openapi.json")).body;
    expect(doc.components.schemas.UsageEvent.properties.keyId).toMatchObject({ format: "uuid" });
    expect(doc.components.schemas.UsageEventRefusal.properties.code.enum).toEqual(
      expect.arrayContaining(["KEY_NOT_FOUND", "KEY_REVOKED", "KEY_EXPIRED"]),
    );
    const op = doc.paths["/api/v1/usage/events"].post;
    expect(op.description).toContain("service credential with scope: `usage:report`");
    expect(Object.keys(doc.paths["/api/v1/me"].get.responses)).toContain("403");
  });
});

describe("events name their key", () => {
  it("are metered to that key and its organization; bad key ids are refused one by one", async () => {
    const { noScopes, otherOrgTarget, revoked, expiring, readOnly, otherOrg } = api.fx.keys;
    await sleep(Math.max(0, expiring.expiresAt.getTime() - Date.now() + 50));
    const endpoint = `/svc/${run}/mixed`;
    const events = [
      event(endpoint, noScopes.id, 0),
      event(endpoint, otherOrgTarget.id, 1),
      event(endpoint, randomUUID(), 2),
      event(endpoint, revoked.id, 3),
      event(endpoint, expiring.id, 4),
      event(endpoint, undefined, 5),
      event(endpoint, "not-a-key-id", 6),
      event(endpoint, noScopes.id, 7),
    ];
    const r = await report(api.fx.services.all.secret, events);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.accepted).toBe(3);
    expect(
      r.body.refused.map((x: any) => [x.index, x.code, x.issues.map((i: any) => i.path)]),
    ).toEqual([
      [2, "KEY_NOT_FOUND", ["events.2.keyId"]],
      [3, "KEY_REVOKED", ["events.3.keyId"]],
      [4, "KEY_EXPIRED", ["events.4.keyId"]],
      [5, "VALIDATION_FAILED", ["events.5.keyId"]],
      [6, "VALIDATION_FAILED", ["events.6.keyId"]],
    ]);
    // Organization A sees its key's two events; B sees its one; neither sees the other's.
    expect(await usageOf(readOnly.key, endpoint, 2, noScopes.id)).toMatchObject({
      requests: 2,
      tokens: 6,
      costUsd: "0.000200",
    });
    expect(await usageOf(readOnly.key, endpoint, 2)).toMatchObject({ requests: 2 });
    expect(await usageOf(otherOrg.key, endpoint, 1)).toMatchObject({
      requests: 1,
      tokens: 3,
      costUsd: "0.000100",
    });
  });

  it("one held to an organization refuses another organization's keys exactly as unknown ones", async () => {
    const { noScopes, otherOrgTarget, readOnly } = api.fx.keys;
    const endpoint = `/svc/${run}/scoped`;
    const r = await report(api.fx.services.orgA.secret, [
      event(endpoint, otherOrgTarget.id),
      event(endpoint, noScopes.id),
      event(endpoint, randomUUID()),
    ]);
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(1);
    const [other, unknown] = r.body.refused;
    expect(other).toEqual({
      ...unknown,
      index: 0,
      issues: [{ ...unknown.issues[0], path: "events.0.keyId" }],
    });
    expect(unknown).toMatchObject({ index: 2, code: "KEY_NOT_FOUND" });
    // Only B's key events: 422 with every refusal, nothing written.
    const none = await report(api.fx.services.orgA.secret, [event(endpoint, otherOrgTarget.id)]);
    problem(none, 422, "VALIDATION_FAILED");
    expect(none.body.refused).toEqual([
      {
        index: 0,
        code: "KEY_NOT_FOUND",
        issues: [{ path: "events.0.keyId", message: "No such key." }],
      },
    ]);
    expect(await usageOf(readOnly.key, endpoint, 1)).toMatchObject({ requests: 1 });
    const b = await api.call("GET", `/api/v1/usage?endpoint=${encodeURIComponent(endpoint)}`, {
      key: api.fx.keys.otherOrg.key,
    });
    expect(b.body.totals.requests).toBe(0);
  });

  it("meters a customer's key that has no usage:write, which cannot report for itself", async () => {
    const { noScopes } = api.fx.keys;
    const own = await api.call("POST", "/api/v1/usage/events", {
      key: noScopes.key,
      body: { events: [event("/x", undefined)] },
    });
    problem(own, 403, "INSUFFICIENT_SCOPE");
    const endpoint = `/svc/${run}/no-usage-write`;
    const n = 25;
    const r = await report(
      api.fx.services.all.secret,
      Array.from({ length: n }, (_, i) => event(endpoint, noScopes.id, i)),
    );
    expect(r.body).toEqual({ accepted: n, refused: [] });
    expect(await usageOf(api.fx.keys.readOnly.key, endpoint, n, noScopes.id)).toMatchObject({
      requests: n,
      tokens: 3 * n,
    });
  });

  it("a key still reports for itself alone: another key's id is refused per event", async () => {
    const { admin, noScopes } = api.fx.keys;
    const endpoint = `/svc/${run}/own`;
    const r = await api.call("POST", "/api/v1/usage/events", {
      key: admin.key,
      body: {
        events: [
          event(endpoint, noScopes.id),
          event(endpoint, admin.id),
          event(endpoint, undefined),
        ],
      },
    });
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.refused).toEqual([
      {
        index: 0,
        code: "VALIDATION_FAILED",
        issues: [{ path: "events.0.keyId", message: expect.any(String) }],
      },
    ]);
    expect(await usageOf(api.fx.keys.readOnly.key, endpoint, 2, admin.id)).toMatchObject({
      requests: 2,
    });
  });
});

describe("the CLI through the running app", () => {
  it("creates (shown once), lists and revokes; a revoked credential is refused with 401", async () => {
    const created = await cli(
      "service:create",
      "--name",
      `svc-${run}`,
      "--org",
      orgASlug,
      "--json",
    );
    expect(created.code, created.stderr).toBe(0);
    const c = JSON.parse(created.stdout);
    issued.push(c.secret);
    expect(Object.keys(c).sort()).toEqual(["id", "name", "organization", "scopes", "secret"]);
    expect(c).toMatchObject({
      name: `svc-${run}`,
      scopes: ["usage:report"],
      organization: orgASlug,
    });
    expect(c.secret).toMatch(/^ksvc_[A-Za-z0-9_-]{43}$/);

    const text = await cli("service:create", "--name", `svc-text-${run}`);
    expect(text.code, text.stderr).toBe(0);
    const [secret, note] = text.stdout.trim().split("\n");
    issued.push(secret!);
    expect(secret).toMatch(/^ksvc_[A-Za-z0-9_-]{43}$/);
    expect(note).toContain("shown once");
    expect(note).toContain("every organization");

    const endpoint = `/svc/${run}/cli`;
    const ok = await report(c.secret, [event(endpoint, api.fx.keys.noScopes.id)]);
    expect(ok.body).toEqual({ accepted: 1, refused: [] });

    const list = await cli("service:list", "--json");
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain(c.secret);
    const listed = JSON.parse(list.stdout).serviceCredentials.find((x: any) => x.id === c.id);
    expect(listed).toMatchObject({
      status: "active",
      organization: orgASlug,
      hint: c.secret.slice(-4),
    });
    expect(listed.lastUsedAt).not.toBeNull();
    const listText = await cli("service:list");
    expect(listText.stdout).toContain(`${c.id}  ksvc_…${c.secret.slice(-4)}  active`);

    const revoked = await cli("service:revoke", "--id", c.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${c.id}`);
    const refused = await report(c.secret, [event(endpoint, api.fx.keys.noScopes.id)]);
    problem(refused, 401, "KEY_REVOKED");
    expect(refused.body.refused).toBeUndefined();
    const again = await cli("service:list", "--json");
    expect(
      JSON.parse(again.stdout).serviceCredentials.find((x: any) => x.id === c.id),
    ).toMatchObject({
      status: "revoked",
    });
    // Revoking twice changes nothing; an unknown id or organization is one line and exit 1.
    expect((await cli("service:revoke", "--id", c.id)).code).toBe(0);
    const missing = await cli("service:revoke", "--id", randomUUID());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^keyward: service:revoke: The service credential does not exist\.\n$/,
    );
    const noOrg = await cli("service:create", "--name", "x", "--org", `no-such-${run}`);
    expect(noOrg.code).toBe(1);
    expect(noOrg.stderr).toContain("organization does not exist");
    const badScope = await cli("service:create", "--name", "x", "--scopes", "keys:write");
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain("--scopes");
  }, 300_000);
});

describe("under load", () => {
  it("many batches at once, from both credentials, lose nothing", async () => {
    const { noScopes, readOnly, otherOrgTarget, otherOrg } = api.fx.keys;
    const endpoint = `/svc/${run}/concurrent`;
    const batches = 24;
    const size = 100;
    // Each batch: 50 events for A's noScopes key, 30 for A's readOnly key, 20 for B's key (the
    // credential held to A gets only A's keys).
    const answers = await Promise.all(
      Array.from({ length: batches }, (_, b) => {
        const scoped = b % 2 === 1;
        const events = Array.from({ length: size }, (_, i) =>
          event(
            endpoint,
            i < 50 ? noScopes.id : i < 80 || scoped ? readOnly.id : otherOrgTarget.id,
            i,
          ),
        );
        return report(scoped ? api.fx.services.orgA.secret : api.fx.services.all.secret, events);
      }),
    );
    for (const a of answers) expect(a.body).toEqual({ accepted: size, refused: [] });
    const half = batches / 2;
    const forB = half * 20;
    const forReadOnly = half * 30 + half * 50;
    const forNoScopes = batches * 50;
    expect(await usageOf(readOnly.key, endpoint, forNoScopes + forReadOnly)).toMatchObject({
      requests: forNoScopes + forReadOnly,
      tokens: 3 * (forNoScopes + forReadOnly),
    });
    expect(await usageOf(readOnly.key, endpoint, forNoScopes, noScopes.id)).toMatchObject({
      requests: forNoScopes,
    });
    expect(await usageOf(otherOrg.key, endpoint, forB)).toMatchObject({
      requests: forB,
      tokens: 3 * forB,
      costUsd: (forB * 0.0001).toFixed(6),
    });
  }, 120_000);

  it("failed credentials spend the address's failed-attempt budget (429 past it)", async () => {
    const headers = { "x-forwarded-for": `198.51.100.${Math.floor(Math.random() * 200) + 20}` };
    let last: Awaited<ReturnType<typeof report>> | undefined;
    for (let i = 0; i < 101; i++) {
      last = await report(`ksvc_${randomUUID().replaceAll("-", "").padEnd(43, "x")}`, [], headers);
      if (last.status === 429) break;
    }
    problem(last!, 429, "RATE_LIMITED");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    // A working credential from the same address still reports.
    const ok = await report(
      api.fx.services.all.secret,
      [event(`/svc/${run}/after-429`, api.fx.keys.noScopes.id)],
      headers,
    );
    expect(ok.status).toBe(202);
  }, 120_000);
});

describe("secrets", () => {
  it("no service credential in the database (tables and files) or the server log", async () => {
    await sleep(1000); // let the usage buffer flush
    expect(await api.server.stop()).toBe(0);
    const secrets = [api.fx.services.all.secret, api.fx.services.orgA.secret, ...issued];
    expect(issued.length).toBe(2);
    const log = api.server.logs();
    for (const s of secrets) expect(log).not.toContain(s.slice(5));
    const open = await openDatabase(
      { kind: "pglite", dataDir: api.server.dataDir },
      { shortLived: true },
    );
    try {
      const rows = await open.prisma.serviceCredential.findMany();
      expect(rows.length).toBe(4);
      for (const s of secrets) {
        const hash = createHash("sha256").update(s).digest("hex");
        expect(rows.some((r) => r.secretHash === hash && r.hint === s.slice(-4))).toBe(true);
      }
      const tables = await open.prisma.$queryRaw<
        { tablename: string }[]
      >`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`;
      let dump = "";
      for (const { tablename } of tables) {
        const r = await open.prisma.$queryRawUnsafe<{ j: string }[]>(
          `SELECT row_to_json(t)::text AS j FROM "${tablename}" t`,
        );
        dump += r.map((x) => x.j).join("\n");
      }
      expect(dump).toContain(api.fx.services.all.id);
      for (const s of secrets) expect(dump).not.toContain(s.slice(5));
    } finally {
      await open.close();
    }
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((f) => {
        const p = path.join(d, f);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
    for (const f of walk(api.server.dataDir)) {
      const buf = readFileSync(f);
      for (const s of secrets)
        expect(buf.includes(s.slice(5)), `${s.slice(0, 9)}… in ${f}`).toBe(false);
    }
  });
});
