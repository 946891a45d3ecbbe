// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// Every /api/v1 route over real HTTP against the real server: good input, every error code,
// scopes, cross-organization access, test-key visibility, and the shared suite every
// authenticated route passes. Ends with the secrets check: no plaintext key in the database or
// the server log except in create/rotate responses.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db";
import { generateKey } from "@/lib/keys";
import { type Api, startApi } from "./_setup";

let api: Api;
/** Plaintext keys the server handed out (create/rotate responses). */
const issued: string[] = [];

beforeAll(async () => {
  api = await startApi();
}, 180_000);
afterAll(async () => {
  await api?.server.stop();
});

const MISSING = "9b2f6a0e-3c1d-4e5f-8a7b-1c2d3e4f5a6b";
const problem = (
  r: { status: number; headers: Headers; body: any },
  status: number,
  code: string,
) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get("content-type")).toContain("application/problem+json");
  expect(r.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    requestId: expect.any(String),
  });
  expect(r.headers.get("x-request-id")).toBe(r.body.requestId);
};

interface AuthedRoute {
  method: string;
  path: (id: string) => string;
  scope: string | null;
  body?: unknown;
  /** Uses an id in the path (cross-organization check applies). */
  byId?: boolean;
  /** The organization A key for the cross-organization check (default: admin). */
  crossKey?: "admin" | "webhooks";
}
const AUTHED: AuthedRoute[] = [
  { method: "GET", path: () => "/api/v1/me", scope: null },
  { method: "GET", path: () => "/api/v1/keys", scope: "keys:read" },
  { method: "POST", path: () => "/api/v1/keys", scope: "keys:write", body: { name: "suite" } },
  { method: "GET", path: (id) => `/api/v1/keys/${id}`, scope: "keys:read", byId: true },
  {
    method: "PATCH",
    path: (id) => `/api/v1/keys/${id}`,
    scope: "keys:write",
    body: { name: "renamed" },
    byId: true,
  },
  {
    method: "DELETE",
    path: (id) => `/api/v1/keys/${id}`,
    scope: "keys:write",
    body: { reason: "x" },
    byId: true,
  },
  {
    method: "POST",
    path: (id) => `/api/v1/keys/${id}/rotate`,
    scope: "keys:write",
    body: { gracePeriod: "1h" },
    byId: true,
  },
  { method: "GET", path: () => "/api/v1/usage", scope: "usage:read" },
  {
    method: "POST",
    path: () => "/api/v1/usage/events",
    scope: "usage:write",
    body: { events: [{ endpoint: "/x", method: "GET", statusCode: 200, responseTimeMs: 3 }] },
  },
  ...webhookRoutes(),
];

/** /api/v1/webhooks/**: their ids are endpoint ids (a key's id names no endpoint: 404 too). */
function webhookRoutes(): AuthedRoute[] {
  const read = { scope: "webhooks:read", byId: true, crossKey: "webhooks" } as const;
  const write = { scope: "webhooks:write", byId: true, crossKey: "webhooks" } as const;
  const hook = (id: string) => `/api/v1/webhooks/${id}`;
  return [
    { method: "GET", path: () => "/api/v1/webhooks", scope: "webhooks:read" },
    {
      method: "POST",
      path: () => "/api/v1/webhooks",
      scope: "webhooks:write",
      body: { url: "http://127.0.0.1:9/suite", eventTypes: ["key.created"] },
    },
    { method: "GET", path: hook, ...read },
    { method: "PATCH", path: hook, body: { description: "x" }, ...write },
    { method: "DELETE", path: hook, ...write },
    { method: "POST", path: (id) => `${hook(id)}/rotate-secret`, ...write },
    { method: "GET", path: (id) => `${hook(id)}/deliveries`, ...read },
    { method: "POST", path: (id) => `${hook(id)}/deliveries/${id}/resend`, ...write },
    { method: "POST", path: (id) => `${hook(id)}/test`, ...write },
  ];
}

describe("shared suite: every authenticated route", () => {
  for (const r of AUTHED) {
    describe(`${r.method} ${r.path("{id}")}`, () => {
      const p = () => r.path(api.fx.keys.otherOrgTarget.id);
      it("no key: 401 UNAUTHORIZED with WWW-Authenticate", async () => {
        const res = await api.call(r.method, p(), { body: r.body });
        problem(res, 401, "UNAUTHORIZED");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      });
      it("malformed key: 401 INVALID_FORMAT; unknown key: 401 KEY_NOT_FOUND", async () => {
        problem(
          await api.call(r.method, p(), { key: "pk_live_short", body: r.body }),
          401,
          "INVALID_FORMAT",
        );
        problem(
          await api.call(r.method, p(), { key: generateKey("live").key, body: r.body }),
          401,
          "KEY_NOT_FOUND",
        );
      });
      it("revoked key: 401 KEY_REVOKED", async () => {
        problem(
          await api.call(r.method, p(), { key: api.fx.keys.revoked.key, body: r.body }),
          401,
          "KEY_REVOKED",
        );
      });
      it("expired key: 401 KEY_EXPIRED", async () => {
        const wait = api.fx.keys.expiring.expiresAt.getTime() - Date.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait + 50));
        problem(
          await api.call(r.method, p(), { key: api.fx.keys.expiring.key, body: r.body }),
          401,
          "KEY_EXPIRED",
        );
      });
      it("inactive organization: 403 ORG_INACTIVE", async () => {
        problem(
          await api.call(r.method, p(), { key: api.fx.keys.inactive.key, body: r.body }),
          403,
          "ORG_INACTIVE",
        );
      });
      if (r.scope) {
        it(`missing scope ${r.scope}: 403 INSUFFICIENT_SCOPE`, async () => {
          problem(
            await api.call(r.method, p(), { key: api.fx.keys.noScopes.key, body: r.body }),
            403,
            "INSUFFICIENT_SCOPE",
          );
        });
      }
      if (r.byId) {
        it("another organization's key: 404 with exactly the body of a missing one", async () => {
          const key = api.fx.keys[r.crossKey ?? "admin"].key;
          const other = await api.call(r.method, r.path(api.fx.keys.otherOrgTarget.id), {
            key,
            body: r.body,
          });
          const missing = await api.call(r.method, r.path(MISSING), { key, body: r.body });
          const malformed = await api.call(r.method, r.path("not-a-uuid"), { key, body: r.body });
          for (const res of [other, missing, malformed]) problem(res, 404, "NOT_FOUND");
          const strip = (b: any) => ({ ...b, requestId: undefined });
          expect(strip(other.body)).toEqual(strip(missing.body));
          expect(strip(malformed.body)).toEqual(strip(missing.body));
        });
      }
    });
  }

  it("the key in X-API-Key works like Bearer", async () => {
    const r = await api.call("GET", "/api/v1/me", {
      headers: { "x-api-key": api.fx.keys.admin.key },
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(api.fx.keys.admin.id);
  });

  it("both headers: 400; another scheme: 401; a repeated X-API-Key: 400", async () => {
    problem(
      await api.call("GET", "/api/v1/me", {
        key: api.fx.keys.admin.key,
        headers: { "x-api-key": api.fx.keys.admin.key },
      }),
      400,
      "BAD_REQUEST",
    );
    problem(
      await api.call("GET", "/api/v1/me", {
        headers: { authorization: `Basic ${api.fx.keys.admin.key}` },
      }),
      401,
      "UNAUTHORIZED",
    );
    const h = new Headers();
    h.append("x-api-key", api.fx.keys.admin.key);
    h.append("x-api-key", api.fx.keys.readOnly.key);
    const res = await fetch(`${api.url}/api/v1/me`, { headers: h });
    expect(res.status).toBe(400);
  });

  it("a key in the URL is refused with 400, even a valid one", async () => {
    for (const q of [
      `?key=${api.fx.keys.admin.key}`,
      `?api_key=x`,
      `?x=${api.fx.keys.admin.key}`,
    ]) {
      problem(
        await api.call("GET", `/api/v1/me${q}`, { key: api.fx.keys.admin.key }),
        400,
        "BAD_REQUEST",
      );
    }
    problem(
      await api.call("GET", `/api/v1/keys/${api.fx.keys.admin.key}`, {
        key: api.fx.keys.admin.key,
      }),
      400,
      "BAD_REQUEST",
    );
  });
});

describe("keys", () => {
  it("GET /me describes the calling key", async () => {
    const r = await api.call("GET", "/api/v1/me", { key: api.fx.keys.readOnly.key });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: api.fx.keys.readOnly.id,
      name: "read-only",
      prefix: "pk_live_",
      hint: api.fx.keys.readOnly.key.slice(-4),
      environment: "live",
      scopes: ["keys:read", "usage:read"],
      organization: { id: api.fx.orgA, plan: "ENTERPRISE" },
      limits: { rateLimitPerMinute: 10_000, monthlyQuota: 100_000_000, maxActiveKeys: 100 },
      usage: { month: expect.stringMatching(/^\d{4}-\d{2}$/), requests: expect.any(Number) },
    });
    expect(r.headers.get("ratelimit-limit")).toBe("10000");
    expect(Number(r.headers.get("ratelimit-remaining"))).toBeLessThan(10_000);
    expect(Number(r.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(0);
    // usage is the quota counter's view: this call counted at once, no wait for a flush
    const again = await api.call("GET", "/api/v1/me", { key: api.fx.keys.readOnly.key });
    expect(again.body.usage.requests).toBe(r.body.usage.requests + 1);
    expect(again.body.usage.quotaRemaining).toBe(100_000_000 - again.body.usage.requests);
  });

  it("POST /keys creates a key shown once; GET /keys/{id} never shows it again", async () => {
    const r = await api.call("POST", "/api/v1/keys", {
      key: api.fx.keys.admin.key,
      body: {
        name: "made-by-api",
        scopes: ["usage:read", "billing:charge"],
        rateLimitPerMinute: 100,
      },
    });
    expect(r.status).toBe(201);
    expect(r.body.key).toMatch(/^pk_live_[A-Za-z0-9_-]{43}$/);
    issued.push(r.body.key);
    expect(r.body).toMatchObject({
      name: "made-by-api",
      environment: "live",
      status: "active",
      scopes: ["usage:read", "billing:charge"],
      rateLimitPerMinute: 100,
      hint: r.body.key.slice(-4),
    });
    expect(r.body).not.toHaveProperty("keyHash");
    const g = await api.call("GET", `/api/v1/keys/${r.body.id}`, { key: api.fx.keys.readOnly.key });
    expect(g.status).toBe(200);
    expect(g.body).not.toHaveProperty("key");
    expect(g.text).not.toContain(r.body.key.slice(8));
    const v = await api.call("POST", "/api/v1/keys/verify", {
      body: { key: r.body.key, scopes: ["billing:charge"] },
    });
    expect(v.body).toMatchObject({ valid: true, code: "VALID", keyId: r.body.id });
  });

  it("POST /keys validates with field paths (422), refuses bad JSON (400), wrong type (415), huge bodies (413)", async () => {
    const k = api.fx.keys.admin.key;
    const v = await api.call("POST", "/api/v1/keys", {
      key: k,
      body: { name: "", scopes: ["Not A Scope"], expiresAt: "yesterday", rateLimitPerMinute: -1 },
    });
    problem(v, 422, "VALIDATION_FAILED");
    expect(v.body.issues.map((i: any) => i.path).sort()).toEqual([
      "expiresAt",
      "name",
      "rateLimitPerMinute",
      "scopes.0",
    ]);
    const past = await api.call("POST", "/api/v1/keys", {
      key: k,
      body: { name: "x", expiresAt: "2001-01-01T00:00:00Z" },
    });
    problem(past, 422, "VALIDATION_FAILED");
    expect(past.body.issues[0].path).toBe("expiresAt");
    problem(
      await api.call("POST", "/api/v1/keys", {
        key: k,
        raw: "{not json",
        headers: { "content-type": "application/json" },
      }),
      400,
      "INVALID_JSON",
    );
    problem(
      await api.call("POST", "/api/v1/keys", {
        key: k,
        raw: "name=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    problem(await api.call("POST", "/api/v1/keys", { key: k }), 400, "BAD_REQUEST");
    problem(
      await api.call("POST", "/api/v1/keys", { key: k, body: { name: "x".repeat(70_000) } }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    problem(
      await api.call("POST", "/api/v1/keys", { key: k, body: [1, 2] }),
      422,
      "VALIDATION_FAILED",
    );
  });

  it("text the database cannot store (NUL, lone surrogates, control characters) is 422 with the field path, everywhere", async () => {
    const k = api.fx.keys.admin.key;
    const made = await api.call("POST", "/api/v1/keys", { key: k, body: { name: "text-rules" } });
    expect(made.status).toBe(201);
    const id = made.body.id;
    const cases: [string, string, unknown, string][] = [
      ["POST", "/api/v1/keys", { name: "a\u0000b" }, "name"],
      ["POST", "/api/v1/keys", { name: "\uD800" }, "name"],
      ["POST", "/api/v1/keys", { name: "bell\u0007" }, "name"],
      ["POST", "/api/v1/keys", { name: "two\nlines" }, "name"],
      ["POST", "/api/v1/keys", { name: "x", scopes: ["keys:read\u0000"] }, "scopes.0"],
      ["POST", "/api/v1/keys", { name: "x", rateLimitPerMinute: 2 ** 31 }, "rateLimitPerMinute"],
      ["POST", "/api/v1/keys", { name: "x", rateLimitPerMinute: 1.5 }, "rateLimitPerMinute"],
      ["PATCH", `/api/v1/keys/${id}`, { name: "x\u0000" }, "name"],
      ["PATCH", `/api/v1/keys/${id}`, { name: "x\uDC00y" }, "name"],
      ["DELETE", `/api/v1/keys/${id}`, { reason: "leaked\u0000" }, "reason"],
      ["DELETE", `/api/v1/keys/${id}`, { reason: "\uD800" }, "reason"],
      ["DELETE", `/api/v1/keys/${id}`, { reason: "esc\u001B[2J" }, "reason"],
      ["POST", "/api/v1/keys/verify", { key: "pk_live_x", scopes: ["a\u0000"] }, "scopes.0"],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await api.call(method, path, { key: k, body });
      problem(r, 422, "VALIDATION_FAILED");
      expect(
        r.body.issues.map((i: any) => i.path),
        `${method} ${path}`,
      ).toContain(field);
    }
    // Query strings: the list's cursor and the usage report's endpoint filter.
    for (const [path, field] of [
      ["/api/v1/keys?cursor=abc%00def", "query.cursor"],
      ["/api/v1/keys?cursor=not%20a%20cursor", "query.cursor"],
      ["/api/v1/usage?endpoint=%2Fv1%00", "query.endpoint"],
      ["/api/v1/usage?endpoint=%0A", "query.endpoint"],
    ]) {
      const r = await api.call("GET", path, { key: k });
      problem(r, 422, "VALIDATION_FAILED");
      expect(
        r.body.issues.map((i: any) => i.path),
        path,
      ).toContain(field);
    }
    // A multi-line reason is fine (line breaks and tabs), and the key is untouched by the above.
    const revoked = await api.call("DELETE", `/api/v1/keys/${id}`, {
      key: k,
      body: { reason: "leaked:\n\tin a CI log" },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({
      name: "text-rules",
      revokedReason: "leaked:\n\tin a CI log",
    });
  });

  it("a test key creates test keys only, and sees only test keys", async () => {
    const t = api.fx.keys.test.key;
    const made = await api.call("POST", "/api/v1/keys", { key: t, body: { name: "t2" } });
    expect(made.status).toBe(201);
    expect(made.body.environment).toBe("test");
    issued.push(made.body.key);
    const live = await api.call("POST", "/api/v1/keys", {
      key: t,
      body: { name: "l", environment: "live" },
    });
    problem(live, 403, "PRIVILEGE_CEILING");
    expect(live.body.issues[0].path).toBe("environment");
    const list = await api.call("GET", "/api/v1/keys?limit=100", { key: t });
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeGreaterThan(0);
    expect(list.body.data.every((k: any) => k.environment === "test")).toBe(true);
    const hidden = await api.call("GET", `/api/v1/keys/${api.fx.keys.liveTarget.id}`, { key: t });
    const missing = await api.call("GET", `/api/v1/keys/${MISSING}`, { key: t });
    problem(hidden, 404, "NOT_FOUND");
    expect({ ...hidden.body, requestId: 0 }).toEqual({ ...missing.body, requestId: 0 });
  });

  it("GET /keys lists newest first with filters and cursor pagination, only the caller's organization", async () => {
    const k = api.fx.keys.readOnly.key;
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await api.call(
        "GET",
        `/api/v1/keys?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        { key: k },
      );
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(3);
      all.push(...r.body.data);
      cursor = r.body.nextCursor;
    } while (cursor);
    const ids = all.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(api.fx.keys.admin.id);
    expect(ids).not.toContain(api.fx.keys.otherOrg.id);
    const created = all.map((x) => x.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    const revoked = await api.call("GET", "/api/v1/keys?status=revoked", { key: k });
    expect(revoked.body.data.map((x: any) => x.id)).toContain(api.fx.keys.revoked.id);
    expect(revoked.body.data.every((x: any) => x.status === "revoked")).toBe(true);
    problem(await api.call("GET", "/api/v1/keys?limit=0", { key: k }), 422, "VALIDATION_FAILED");
    problem(
      await api.call("GET", "/api/v1/keys?status=weird", { key: k }),
      422,
      "VALIDATION_FAILED",
    );
    const bad = await api.call("GET", "/api/v1/keys?cursor=garbage", { key: k });
    expect(bad.status).toBe(400);
  });

  it("PATCH /keys/{id} updates fields, null rate limit means the plan's; empty patch is 422", async () => {
    const k = api.fx.keys.admin.key;
    const made = await api.call("POST", "/api/v1/keys", {
      key: k,
      body: { name: "patch-me", rateLimitPerMinute: 5 },
    });
    issued.push(made.body.key);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const r = await api.call("PATCH", `/api/v1/keys/${made.body.id}`, {
      key: k,
      body: { name: "patched", scopes: ["usage:read"], expiresAt, rateLimitPerMinute: null },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: "patched",
      scopes: ["usage:read"],
      rateLimitPerMinute: null,
      expiresAt,
    });
    const v = await api.call("POST", "/api/v1/keys/verify", { body: { key: made.body.key } });
    expect(v.body.ratelimit.limit).toBe(10_000);
    problem(
      await api.call("PATCH", `/api/v1/keys/${made.body.id}`, { key: k, body: {} }),
      422,
      "VALIDATION_FAILED",
    );
    problem(
      await api.call("PATCH", `/api/v1/keys/${made.body.id}`, {
        key: k,
        body: { scopes: "keys:read" },
      }),
      422,
      "VALIDATION_FAILED",
    );
  });

  it("DELETE /keys/{id} revokes at once; the key stops working on the next request", async () => {
    const k = api.fx.keys.admin.key;
    const made = await api.call("POST", "/api/v1/keys", {
      key: k,
      body: { name: "revoke-me", scopes: ["keys:read"] },
    });
    issued.push(made.body.key);
    expect((await api.call("GET", "/api/v1/keys", { key: made.body.key })).status).toBe(200);
    const r = await api.call("DELETE", `/api/v1/keys/${made.body.id}`, {
      key: k,
      body: { reason: "compromised" },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "revoked", revokedReason: "compromised" });
    problem(await api.call("GET", "/api/v1/keys", { key: made.body.key }), 401, "KEY_REVOKED");
    const v = await api.call("POST", "/api/v1/keys/verify", { body: { key: made.body.key } });
    expect(v.body).toMatchObject({ valid: false, code: "REVOKED" });
    // without a body, and twice: the first revocation stands
    const again = await api.call("DELETE", `/api/v1/keys/${made.body.id}`, { key: k });
    expect(again.status).toBe(200);
    expect(again.body.revokedReason).toBe("compromised");
    problem(
      await api.call("PATCH", `/api/v1/keys/${made.body.id}`, { key: k, body: { name: "x" } }),
      409,
      "CONFLICT",
    );
  });

  it("POST /keys/{id}/rotate: new key once, old key valid inside the grace period, rotating twice is 409", async () => {
    const k = api.fx.keys.admin.key;
    const made = await api.call("POST", "/api/v1/keys", {
      key: k,
      body: { name: "rotate-me", scopes: ["keys:read"], rateLimitPerMinute: 50 },
    });
    issued.push(made.body.key);
    const r = await api.call("POST", `/api/v1/keys/${made.body.id}/rotate`, {
      key: k,
      body: { gracePeriod: "1h" },
    });
    expect(r.status).toBe(200);
    issued.push(r.body.key);
    expect(r.body).toMatchObject({
      name: "rotate-me",
      scopes: ["keys:read"],
      rateLimitPerMinute: 50,
      environment: "live",
      status: "active",
    });
    expect(r.body.previousKey).toMatchObject({
      id: made.body.id,
      rotatedToId: r.body.id,
      status: "active",
    });
    expect(
      (await api.call("POST", "/api/v1/keys/verify", { body: { key: made.body.key } })).body.code,
    ).toBe("VALID");
    expect(
      (await api.call("POST", "/api/v1/keys/verify", { body: { key: r.body.key } })).body.code,
    ).toBe("VALID");
    problem(
      await api.call("POST", `/api/v1/keys/${made.body.id}/rotate`, { key: k }),
      409,
      "CONFLICT",
    );
    problem(
      await api.call("POST", `/api/v1/keys/${r.body.id}/rotate`, {
        key: k,
        body: { gracePeriod: "2h" },
      }),
      422,
      "VALIDATION_FAILED",
    );
  });

  it("rotation with no grace period: the old key is invalid at once", async () => {
    const k = api.fx.keys.admin.key;
    const made = await api.call("POST", "/api/v1/keys", { key: k, body: { name: "rotate-now" } });
    issued.push(made.body.key);
    const r = await api.call("POST", `/api/v1/keys/${made.body.id}/rotate`, {
      key: k,
      body: { gracePeriod: "none" },
    });
    issued.push(r.body.key);
    expect(r.body.previousKey.status).toBe("revoked");
    expect(
      (await api.call("POST", "/api/v1/keys/verify", { body: { key: made.body.key } })).body.code,
    ).toBe("REVOKED");
  });

  it("rotation's grace period ends at the old key's own expiry, and the successor keeps that expiry", async () => {
    const k = api.fx.keys.admin.key;
    const expiresAt = new Date(Date.now() + 4000).toISOString();
    const made = await api.call("POST", "/api/v1/keys", {
      key: k,
      body: { name: "rotate-cap", expiresAt },
    });
    issued.push(made.body.key);
    const r = await api.call("POST", `/api/v1/keys/${made.body.id}/rotate`, {
      key: k,
      body: { gracePeriod: "7d" },
    });
    issued.push(r.body.key);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.previousKey.expiresAt).toBe(expiresAt);
    // A rotation never extends a key's life: the successor expires when the source would have.
    expect(r.body.expiresAt).toBe(expiresAt);
    expect(
      (await api.call("POST", "/api/v1/keys/verify", { body: { key: made.body.key } })).body.code,
    ).toBe("VALID");
    await new Promise((res) => setTimeout(res, Date.parse(expiresAt) - Date.now() + 100));
    expect(
      (await api.call("POST", "/api/v1/keys/verify", { body: { key: made.body.key } })).body.code,
    ).toBe("EXPIRED");
    expect(
      (await api.call("POST", "/api/v1/keys/verify", { body: { key: r.body.key } })).body.code,
    ).toBe("EXPIRED");
  });
});

describe("usage", () => {
  it("POST /usage/events accepts up to 1,000 events; GET /usage reports them", async () => {
    const k = api.fx.keys.admin.key;
    const events = Array.from({ length: 1000 }, (_, i) => ({
      endpoint: i % 2 ? "/v1/chat" : "/v1/embed",
      method: "POST",
      statusCode: i % 10 === 0 ? 500 : 200,
      responseTimeMs: 10 + (i % 5),
      tokens: 3,
      costUsd: "0.000100",
    }));
    const r = await api.call("POST", "/api/v1/usage/events", { key: k, body: { events } });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ accepted: 1000, refused: [] });
    problem(
      await api.call("POST", "/api/v1/usage/events", {
        key: k,
        body: { events: [...events, events[0]] },
      }),
      422,
      "VALIDATION_FAILED",
    );
    problem(
      await api.call("POST", "/api/v1/usage/events", { key: k, body: { events: [] } }),
      422,
      "VALIDATION_FAILED",
    );
    const bad = await api.call("POST", "/api/v1/usage/events", {
      key: k,
      body: {
        events: [
          { ...events[0], costUsd: 0.1 },
          { ...events[0], occurredAt: "2000-01-01T00:00:00Z" },
        ],
      },
    });
    problem(bad, 422, "VALIDATION_FAILED");
    expect(bad.body.issues.map((i: any) => i.path)).toContain("events.0.costUsd");
    expect(bad.body.refused.map((x: any) => [x.index, x.code, x.issues[0].path])).toEqual([
      [0, "VALIDATION_FAILED", "events.0.costUsd"],
      [1, "VALIDATION_FAILED", "events.1.occurredAt"],
    ]);
    let report: any;
    for (let i = 0; i < 40; i++) {
      report = await api.call(
        "GET",
        "/api/v1/usage?granularity=hour&from=" +
          encodeURIComponent(new Date(Date.now() - 3 * 3_600_000).toISOString()) +
          "&endpoint=%2Fv1%2Fchat",
        { key: api.fx.keys.readOnly.key },
      );
      if (report.body?.totals?.requests >= 500) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(report.status).toBe(200);
    expect(report.body.granularity).toBe("hour");
    expect(report.body.totals).toMatchObject({
      requests: 500,
      errors: 0,
      tokens: 1500,
      costUsd: "0.050000",
      avgResponseTimeMs: 12, // 10..14 ms, 100 of each
    });
    // Range percentiles from the merged histograms (within 2%), not from the series' buckets.
    expect(Math.abs(report.body.totals.p50ResponseTimeMs - 12)).toBeLessThanOrEqual(0.24);
    expect(Math.abs(report.body.totals.p95ResponseTimeMs - 14)).toBeLessThanOrEqual(0.28);
    expect(report.body.series.length).toBeGreaterThanOrEqual(3);
    const day = await api.call("GET", "/api/v1/usage", { key: api.fx.keys.readOnly.key });
    expect(day.status).toBe(200);
    expect(day.body.granularity).toBe("day");
    expect(day.body.totals.requests).toBeGreaterThanOrEqual(1000);
    expect(day.body.totals.errors).toBeGreaterThanOrEqual(100);
    // another organization sees none of it; a test key sees none of a live key's usage
    const other = await api.call("GET", "/api/v1/usage", { key: api.fx.keys.otherOrg.key });
    expect(other.body.totals.requests).toBeLessThan(100);
    const test = await api.call("GET", "/api/v1/usage?endpoint=%2Fv1%2Fchat", {
      key: api.fx.keys.test.key,
    });
    expect(test.body.totals.requests).toBe(0);
    problem(
      await api.call("GET", `/api/v1/usage?keyId=${api.fx.keys.otherOrg.id}`, {
        key: api.fx.keys.readOnly.key,
      }),
      404,
      "NOT_FOUND",
    );
    problem(
      await api.call("GET", "/api/v1/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", {
        key: api.fx.keys.readOnly.key,
      }),
      422,
      "VALIDATION_FAILED",
    );
    problem(
      await api.call("GET", "/api/v1/usage?granularity=hour&from=2020-01-01T00:00:00Z", {
        key: api.fx.keys.readOnly.key,
      }),
      422,
      "VALIDATION_FAILED",
    );
  });

  it("every call is metered with endpoint, method, status and latency", async () => {
    const k = api.fx.keys.limited.key;
    await api.call("GET", "/api/v1/keys/not-a-uuid", { key: k });
    let r: any;
    for (let i = 0; i < 40; i++) {
      r = await api.call(
        "GET",
        `/api/v1/usage?keyId=${api.fx.keys.limited.id}&endpoint=${encodeURIComponent("/api/v1/keys/{id}")}`,
        { key: api.fx.keys.readOnly.key },
      );
      if (r.body?.totals?.requests >= 1) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(r.body.totals.requests).toBe(1);
    expect(r.body.totals.errors).toBe(1);

    // A call refused for its key (revoked: 401) is still a call by that key: metered to it.
    // (The shared suite above used this key too: wait out the recorder's 1 s timer, then count.)
    const revoked = api.fx.keys.revoked;
    const usageOf = (id: string) =>
      api.call("GET", `/api/v1/usage?keyId=${id}`, { key: api.fx.keys.readOnly.key });
    await new Promise((res) => setTimeout(res, 1_500));
    const before = (await usageOf(revoked.id)).body.totals;
    expect((await api.call("GET", "/api/v1/me", { key: revoked.key })).status).toBe(401);
    for (let i = 0; i < 40; i++) {
      r = await usageOf(revoked.id);
      if (r.body?.totals?.requests > before.requests) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(r.body.totals).toMatchObject({
      requests: before.requests + 1,
      errors: before.errors + 1,
    });
  });
});

describe("public routes", () => {
  it("GET /health answers ok with the database", async () => {
    const r = await api.call("GET", "/api/v1/health");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "ok", database: "ok" });
  });

  it("GET /openapi.json is OpenAPI 3.1 with every route", async () => {
    const r = await api.call("GET", "/api/v1/openapi.json");
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
    expect(Object.keys(r.body.paths).sort()).toEqual(
      [
        "/api/v1/health",
        "/api/v1/keys",
        "/api/v1/keys/leaked",
        "/api/v1/keys/verify",
        "/api/v1/keys/{id}",
        "/api/v1/keys/{id}/rotate",
        "/api/v1/me",
        "/api/v1/openapi.json",
        "/api/v1/secret-scanning/github",
        "/api/v1/usage",
        "/api/v1/usage/events",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/deliveries",
        "/api/v1/webhooks/{id}/deliveries/{deliveryId}/resend",
        "/api/v1/webhooks/{id}/rotate-secret",
        "/api/v1/webhooks/{id}/test",
      ].sort(),
    );
    expect(Object.keys(r.body.paths["/api/v1/keys/{id}"]).sort()).toEqual([
      "delete",
      "get",
      "patch",
    ]);
    expect(r.body.components.schemas.CreateKeyRequest.properties.name).toBeDefined();
  });

  it("GET /openapi.json shows the bounds: lengths, numeric ranges and the text pattern", async () => {
    const { components, paths } = (await api.call("GET", "/api/v1/openapi.json")).body;
    const create = components.schemas.CreateKeyRequest.properties;
    expect(create.name).toMatchObject({
      minLength: 1,
      maxLength: 100,
      pattern: expect.any(String),
    });
    // The pattern says what the server refuses: control characters.
    const pattern = new RegExp(create.name.pattern, "u");
    expect(pattern.test("billing-service")).toBe(true);
    expect(pattern.test("a\u0000b")).toBe(false);
    expect(pattern.test("two\nlines")).toBe(false);
    expect(create.rateLimitPerMinute).toMatchObject({ minimum: 1, maximum: 1_000_000 });
    expect(create.scopes).toMatchObject({ maxItems: 50 });
    expect(create.scopes.items).toMatchObject({ maxLength: 64, pattern: expect.any(String) });
    const reason = components.schemas.RevokeKeyRequest.properties.reason;
    expect(reason).toMatchObject({ minLength: 1, maxLength: 500 });
    expect(new RegExp(reason.pattern, "u").test("two\nlines")).toBe(true);
    expect(new RegExp(reason.pattern, "u").test("nul\u0000")).toBe(false);
    const list = Object.fromEntries(
      paths["/api/v1/keys"].get.parameters.map((p: any) => [p.name, p.schema]),
    );
    expect(list.limit).toMatchObject({ minimum: 1, maximum: 100 });
    expect(list.cursor).toMatchObject({ maxLength: 200, pattern: expect.any(String) });
  });

  it("GET /docs renders the reference from the app itself (no external assets)", async () => {
    const res = await fetch(`${api.url}/docs`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/api/v1/keys/{id}/rotate");
    expect(html).toContain("INSUFFICIENT_SCOPE");
    const external = [...html.matchAll(/(?:src|href)="(https?:\/\/[^"]+)"/g)].map((m) => m[1]);
    expect(external).toEqual([]);
  });

  it("unknown methods are 405, never 5xx", async () => {
    const r = await api.call("PUT", "/api/v1/keys");
    expect(r.status).toBe(405);
  });
});

describe("secrets", () => {
  it("no plaintext key in the database (tables and files) or in the server log", async () => {
    await new Promise((res) => setTimeout(res, 1000)); // let the usage buffer flush
    const code = await api.server.stop();
    expect(code).toBe(0);
    const secrets = [...api.fx.plaintexts, ...issued];
    expect(secrets.length).toBeGreaterThan(10);
    const log = api.server.logs();
    for (const s of secrets) expect(log).not.toContain(s.slice(8));
    const open = await openDatabase(
      { kind: "pglite", dataDir: api.server.dataDir },
      { shortLived: true },
    );
    try {
      const tables = await open.prisma.$queryRaw<
        { tablename: string }[]
      >`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`;
      let dump = "";
      for (const { tablename } of tables) {
        const rows = await open.prisma.$queryRawUnsafe<{ j: string }[]>(
          `SELECT row_to_json(t)::text AS j FROM "${tablename}" t`,
        );
        dump += rows.map((r) => r.j).join("\n");
      }
      expect(dump).toContain(api.fx.keys.admin.id);
      for (const s of secrets) expect(dump).not.toContain(s.slice(8));
    } finally {
      await open.close();
    }
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(api.server.dataDir);
    for (const f of files) {
      const buf = readFileSync(f);
      for (const s of secrets)
        expect(buf.includes(s.slice(8)), `${s.slice(0, 10)}… in ${f}`).toBe(false);
    }
  });
});
