// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// /api/v1/webhooks over real HTTP against the real server (KEYWARD_WEBHOOK_ALLOW_PRIVATE=1, so
// loopback http URLs register; every URL here is loopback or never receives an event): CRUD, the
// signing secret shown once and never again, 422 codes, scopes, test keys, another
// organization's endpoint answered like a missing one, SSRF URLs refused at registration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "./_setup";

let api: Api;

beforeAll(async () => {
  api = await startApi({ env: { KEYWARD_WEBHOOK_ALLOW_PRIVATE: "1" } });
}, 180_000);
afterAll(async () => {
  await api?.server.stop();
});

const MISSING = "9b2f6a0e-3c1d-4e5f-8a7b-1c2d3e4f5a6b";
/** A loopback port nothing listens on: a delivery to it fails, nothing leaves the machine. */
const CLOSED = "http://127.0.0.1:9/keyward";

const problem = (
  r: { status: number; headers: Headers; body: any },
  status: number,
  code: string,
) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get("content-type")).toContain("application/problem+json");
  expect(r.body).toMatchObject({ status, code, requestId: expect.any(String) });
};

const key = () => api.fx.keys.webhooks.key;
const create = (body: unknown, k = key()) => api.call("POST", "/api/v1/webhooks", { key: k, body });

describe("/api/v1/webhooks", () => {
  it("creates an endpoint: 201, the secret once; GET and the list never show it again", async () => {
    const r = await create({
      url: `${CLOSED}?token=abc`,
      eventTypes: ["key.created", "quota.threshold"],
      description: "billing",
    });
    expect(r.status, r.text).toBe(201);
    expect(r.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(r.body).toMatchObject({
      url: `${CLOSED}?token=abc`,
      eventTypes: ["key.created", "quota.threshold"],
      description: "billing",
      enabled: true,
      disabledReason: null,
      lastDelivery: null,
    });
    const id = r.body.id;
    const g = await api.call("GET", `/api/v1/webhooks/${id}`, {
      key: api.fx.keys.webhooksRead.key,
    });
    expect(g.status).toBe(200);
    expect(g.body.id).toBe(id);
    expect(g.body).not.toHaveProperty("secret");
    expect(g.text).not.toContain(r.body.secret);
    expect(g.text).not.toContain("whsec_");
    const l = await api.call("GET", "/api/v1/webhooks", { key: api.fx.keys.webhooksRead.key });
    expect(l.status).toBe(200);
    expect(l.body.data.map((w: any) => w.id)).toContain(id);
    expect(l.text).not.toContain("whsec_");
    // The server's log never holds it either.
    expect(api.server.logs()).not.toContain(r.body.secret);
  });

  it("updates, rotates (new secret once, the old one signs 24 h more) and deletes", async () => {
    const made = await create({ url: CLOSED, eventTypes: ["key.revoked"] });
    expect(made.status).toBe(201);
    const path = `/api/v1/webhooks/${made.body.id}`;
    const p = await api.call("PATCH", path, {
      key: key(),
      body: { description: "ops", eventTypes: ["key.revoked", "key.expired"], enabled: false },
    });
    expect(p.status, p.text).toBe(200);
    expect(p.body).toMatchObject({
      description: "ops",
      eventTypes: ["key.revoked", "key.expired"],
      enabled: false,
    });
    problem(await api.call("PATCH", path, { key: key(), body: {} }), 422, "VALIDATION_FAILED");

    const rot = await api.call("POST", `${path}/rotate-secret`, { key: key() });
    expect(rot.status, rot.text).toBe(200);
    expect(rot.body.secret).toMatch(/^whsec_/);
    expect(rot.body.secret).not.toBe(made.body.secret);
    const until = new Date(rot.body.previousSecretExpiresAt).getTime() - Date.now();
    expect(until).toBeGreaterThan(23 * 3_600_000);
    expect(until).toBeLessThanOrEqual(24 * 3_600_000);
    const after = await api.call("GET", path, { key: key() });
    expect(after.text).not.toContain("whsec_");

    const d = await api.call("DELETE", path, { key: key() });
    expect(d.status).toBe(200);
    expect(d.body.id).toBe(made.body.id);
    problem(await api.call("GET", path, { key: key() }), 404, "NOT_FOUND");
    problem(await api.call("DELETE", path, { key: key() }), 404, "NOT_FOUND");
  });

  it("test event: a pending webhook.test delivery in the log; resend requeues it", async () => {
    const made = await create({ url: CLOSED, eventTypes: ["key.created"] });
    const path = `/api/v1/webhooks/${made.body.id}`;
    const t = await api.call("POST", `${path}/test`, { key: key() });
    expect(t.status, t.text).toBe(202);
    expect(t.body.delivery).toMatchObject({
      eventId: t.body.eventId,
      eventType: "webhook.test",
      attempts: 0,
    });
    const log = await api.call("GET", `${path}/deliveries`, { key: api.fx.keys.webhooksRead.key });
    expect(log.status).toBe(200);
    expect(log.body.data.map((x: any) => x.id)).toContain(t.body.delivery.id);
    const resend = async () =>
      api.call("POST", `${path}/deliveries/${t.body.delivery.id}/resend`, { key: key() });
    // A loop may hold it this instant (409 then); within a few seconds it is free again.
    let r = await resend();
    for (let i = 0; r.status === 409 && i < 30; i++) {
      await new Promise((res) => setTimeout(res, 500));
      r = await resend();
    }
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ id: t.body.delivery.id, status: "pending", attempts: 0 });
    problem(
      await api.call("POST", `${path}/deliveries/${MISSING}/resend`, { key: key() }),
      404,
      "NOT_FOUND",
    );
    // A disabled endpoint gets no test event.
    await api.call("PATCH", path, { key: key(), body: { enabled: false } });
    problem(await api.call("POST", `${path}/test`, { key: key() }), 409, "CONFLICT");
  });

  it("validation: 422 with a stable code and the field", async () => {
    const cases: [unknown, string, string][] = [
      [{ url: CLOSED, eventTypes: [] }, "VALIDATION_FAILED", "eventTypes"],
      [{ url: CLOSED, eventTypes: ["key.nope"] }, "VALIDATION_FAILED", "eventTypes.0"],
      [{ url: CLOSED }, "VALIDATION_FAILED", "eventTypes"],
      [{ eventTypes: ["key.created"] }, "VALIDATION_FAILED", "url"],
      [{ url: "x".repeat(2049), eventTypes: ["key.created"] }, "VALIDATION_FAILED", "url"],
      [{ url: "not a url", eventTypes: ["key.created"] }, "WEBHOOK_URL_INVALID", "url"],
      [{ url: "ftp://127.0.0.1/x", eventTypes: ["key.created"] }, "WEBHOOK_URL_INVALID", "url"],
      [
        { url: "http://user:pw@127.0.0.1/x", eventTypes: ["key.created"] },
        "WEBHOOK_URL_INVALID",
        "url",
      ],
    ];
    for (const [body, code, path] of cases) {
      const r = await create(body);
      problem(r, 422, code);
      expect(
        r.body.issues?.map((i: any) => i.path),
        JSON.stringify(body),
      ).toContain(path);
    }
  });

  it("SSRF: private, link-local, metadata and mapped addresses are refused at registration", async () => {
    const before = await api.call("GET", "/api/v1/webhooks?limit=100", { key: key() });
    for (const url of [
      "http://10.0.0.1/hook",
      "https://10.0.0.1/hook",
      "http://169.254.169.254/latest/meta-data/",
      "https://169.254.169.254/latest/meta-data/",
      "https://192.168.1.10/hook",
      "https://172.16.0.1/hook",
      "https://100.64.0.1/hook",
      "https://0.0.0.0/hook",
      "https://[fe80::1]/hook",
      "https://[fd00:ec2::254]/hook",
      "https://[::ffff:10.0.0.1]/hook",
      "https://[::ffff:169.254.169.254]/hook",
      "https://0x0a000001/hook",
      "https://167772161/hook",
    ]) {
      const r = await create({ url, eventTypes: ["key.created"] });
      expect([r.status, r.body?.code], url).toEqual([422, "WEBHOOK_URL_NOT_ALLOWED"]);
    }
    // The same on update.
    const made = await create({ url: CLOSED, eventTypes: ["key.created"] });
    const p = await api.call("PATCH", `/api/v1/webhooks/${made.body.id}`, {
      key: key(),
      body: { url: "https://169.254.169.254/" },
    });
    problem(p, 422, "WEBHOOK_URL_NOT_ALLOWED");
    const after = await api.call("GET", "/api/v1/webhooks?limit=100", { key: key() });
    expect(after.body.data.length).toBe(before.body.data.length + 1);
  });

  it("scopes: webhooks:read reads only; keys without webhooks scopes are refused", async () => {
    const made = await create({ url: CLOSED, eventTypes: ["key.created"] });
    const id = made.body.id;
    const read = api.fx.keys.webhooksRead.key;
    problem(
      await create({ url: CLOSED, eventTypes: ["key.created"] }, read),
      403,
      "INSUFFICIENT_SCOPE",
    );
    for (const [method, path] of [
      ["PATCH", `/api/v1/webhooks/${id}`],
      ["DELETE", `/api/v1/webhooks/${id}`],
      ["POST", `/api/v1/webhooks/${id}/rotate-secret`],
      ["POST", `/api/v1/webhooks/${id}/test`],
      ["POST", `/api/v1/webhooks/${id}/deliveries/${MISSING}/resend`],
    ] as const) {
      problem(
        await api.call(method, path, { key: read, body: { description: "x" } }),
        403,
        "INSUFFICIENT_SCOPE",
      );
    }
    // A key with every key and usage scope, but no webhooks scope.
    problem(
      await api.call("GET", "/api/v1/webhooks", { key: api.fx.keys.admin.key }),
      403,
      "INSUFFICIENT_SCOPE",
    );
    problem(await api.call("GET", "/api/v1/webhooks"), 401, "UNAUTHORIZED");
  });

  it("a test key is refused: endpoints receive the live keys' events", async () => {
    const k = api.fx.keys.webhooksTest.key;
    problem(await api.call("GET", "/api/v1/webhooks", { key: k }), 403, "FORBIDDEN");
    problem(await create({ url: CLOSED, eventTypes: ["key.created"] }, k), 403, "FORBIDDEN");
  });

  it("another organization's endpoint answers exactly like a missing one", async () => {
    const made = await create({ url: CLOSED, eventTypes: ["key.created"] });
    const test = await api.call("POST", `/api/v1/webhooks/${made.body.id}/test`, { key: key() });
    expect(test.status).toBe(202);
    const b = api.fx.keys.otherOrgWebhooks.key;
    const list = await api.call("GET", "/api/v1/webhooks", { key: b });
    expect(list.status).toBe(200);
    expect(list.body.data.map((w: any) => w.id)).not.toContain(made.body.id);
    const routes: [string, (id: string) => string, unknown?][] = [
      ["GET", (id) => `/api/v1/webhooks/${id}`],
      ["PATCH", (id) => `/api/v1/webhooks/${id}`, { description: "stolen" }],
      ["POST", (id) => `/api/v1/webhooks/${id}/rotate-secret`],
      ["GET", (id) => `/api/v1/webhooks/${id}/deliveries`],
      ["POST", (id) => `/api/v1/webhooks/${id}/test`],
      ["POST", (id) => `/api/v1/webhooks/${id}/deliveries/${test.body.delivery.id}/resend`],
      ["DELETE", (id) => `/api/v1/webhooks/${id}`],
    ];
    const strip = (body: any) => ({ ...body, requestId: undefined });
    for (const [method, path, body] of routes) {
      const other = await api.call(method, path(made.body.id), { key: b, body });
      const missing = await api.call(method, path(MISSING), { key: b, body });
      const malformed = await api.call(method, path("not-a-uuid"), { key: b, body });
      for (const r of [other, missing, malformed]) problem(r, 404, "NOT_FOUND");
      expect(strip(other.body), `${method} ${path("{id}")}`).toEqual(strip(missing.body));
      expect(strip(malformed.body)).toEqual(strip(missing.body));
    }
    // Untouched.
    const g = await api.call("GET", `/api/v1/webhooks/${made.body.id}`, { key: key() });
    expect(g.status).toBe(200);
    expect(g.body.description).toBe("");
  });

  it("the OpenAPI document lists every webhooks operation with its scope", async () => {
    const doc = (await api.call("GET", "/api/v1/openapi.json")).body;
    const ops = Object.values(doc.paths as Record<string, Record<string, any>>)
      .flatMap((p) => Object.values(p))
      .map((o) => o.operationId);
    for (const id of [
      "listWebhooks",
      "createWebhook",
      "getWebhook",
      "updateWebhook",
      "deleteWebhook",
      "rotateWebhookSecret",
      "listWebhookDeliveries",
      "resendWebhookDelivery",
      "sendWebhookTestEvent",
    ]) {
      expect(ops).toContain(id);
    }
  });
});
