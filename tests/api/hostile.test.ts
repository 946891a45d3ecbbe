// biome-ignore-all lint/suspicious/noExplicitAny: generated values are any shape by design
// Hostile input: for every route, at least 1,000 generated bad (or odd) requests, and never a
// 5xx: whatever a client sends, the answer is a 2xx or a 4xx problem document.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "./_setup";

// 300 generated requests per route (HOSTILE_RUNS for more): the shapes here are whole-body
// mutations; every field's own hostile values are covered one by one in fields-fuzz.test.ts.
const RUNS = Number(process.env.HOSTILE_RUNS ?? 300);
let api: Api;
beforeAll(async () => {
  api = await startApi();
}, 180_000);
afterAll(async () => {
  await api?.server.stop();
});

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});
const weird = fc.oneof(
  fc.string({ maxLength: 200 }),
  // What PostgreSQL cannot store or a single-line field refuses (tests/api/fields-fuzz.test.ts
  // sends these field by field).
  fc.string({
    unit: fc.constantFrom("\u0000", "\uD800", "\uDC00", "\u0007", "\n", "\u009F", "a", "😀"),
    maxLength: 20,
  }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(""),
  fc.constant("__proto__"),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(-1),
  fc.constant("9999-99-99T99:99:99Z"),
  fc.constant("2001-01-01T00:00:00Z"),
  fc.constant("2099-01-01T00:00:00Z"),
  fc.array(fc.string({ maxLength: 70 }), { maxLength: 60 }),
  fc.array(fc.constantFrom("keys:read", "keys:write", "usage:read", "a:b", "A:B", ""), {
    maxLength: 5,
  }),
  fc.object({ maxDepth: 2 }),
);
const FIELDS = [
  "name",
  "environment",
  "scopes",
  "expiresAt",
  "rateLimitPerMinute",
  "gracePeriod",
  "reason",
  "key",
  "events",
  "endpoint",
  "method",
  "statusCode",
  "responseTimeMs",
  "tokens",
  "costUsd",
  "occurredAt",
  "__proto__",
  "constructor",
  "status",
];
const objectBody = fc.dictionary(fc.constantFrom(...FIELDS), weird, { maxKeys: 6 });
const eventsBody = fc.record({
  events: fc.oneof(
    fc.array(fc.dictionary(fc.constantFrom(...FIELDS), weird, { maxKeys: 8 }), { maxLength: 20 }),
    weird,
  ),
});
const rawBody = fc.oneof(
  objectBody.map((o) => JSON.stringify(o)),
  eventsBody.map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300 }),
  fc.constant("{".repeat(5000)),
  fc.constant(`[${"[".repeat(2000)}${"]".repeat(2000)}]`),
  fc.constant(`{"name":"${"x".repeat(70_000)}"}`),
  fc.constant(""),
  fc.constant("null"),
  fc.constant(`{"key": "pk_live_${"A".repeat(43)}"}`),
);
const query = fc.dictionary(
  fc.constantFrom(
    "from",
    "to",
    "granularity",
    "keyId",
    "endpoint",
    "limit",
    "cursor",
    "status",
    "environment",
    "x",
  ),
  fc.oneof(
    printable,
    fc.constantFrom("hour", "day", "live", "test", "revoked", "0", "101", "2026-01-01T00:00:00Z"),
  ),
  { maxKeys: 5 },
);

interface Target {
  method: string;
  path: string;
  hasId?: boolean;
}
const TARGETS: Target[] = [
  { method: "POST", path: "/api/v1/keys/verify" },
  { method: "POST", path: "/api/v1/keys/leaked" },
  { method: "POST", path: "/api/v1/secret-scanning/github" },
  { method: "GET", path: "/api/v1/me" },
  { method: "GET", path: "/api/v1/keys" },
  { method: "POST", path: "/api/v1/keys" },
  { method: "GET", path: "/api/v1/keys/{id}", hasId: true },
  { method: "PATCH", path: "/api/v1/keys/{id}", hasId: true },
  { method: "DELETE", path: "/api/v1/keys/{id}", hasId: true },
  { method: "POST", path: "/api/v1/keys/{id}/rotate", hasId: true },
  { method: "GET", path: "/api/v1/usage" },
  { method: "POST", path: "/api/v1/usage/events" },
  { method: "GET", path: "/api/v1/health" },
  { method: "GET", path: "/api/v1/openapi.json" },
];

describe("hostile input never yields a 5xx", () => {
  it.concurrent.each(TARGETS)(`$method $path (${RUNS} generated requests)`, async (t) => {
    const fuzzKey = api.fx.keys.fuzz.key;
    const auth = fc.oneof(
      { weight: 4, arbitrary: fc.constant(`Bearer ${fuzzKey}`) },
      fc.constant(undefined),
      printable,
      printable.map((s) => `Bearer ${s}`),
      fc.constant(`Bearer ${fuzzKey} ${fuzzKey}`),
      fc.constant(`bearer ${api.fx.keys.readOnly.key}`),
      fc.constant(`Bearer ${api.fx.services.all.secret}`),
      printable.map((s) => `Bearer ksvc_${s}`),
    );
    const id = fc.oneof(
      fc.uuid(),
      printable.filter((s) => s.length > 0),
      fc.constantFrom(
        api.fx.keys.liveTarget.id,
        api.fx.keys.otherOrgTarget.id,
        "..",
        ".",
        "%00",
        "pk_live_x",
      ),
    );
    const request = fc.record({
      auth,
      apiKey: fc.option(fc.oneof(printable, fc.constant(fuzzKey)), { freq: 5 }),
      contentType: fc.oneof(
        { weight: 5, arbitrary: fc.constant("application/json") },
        fc.constant(undefined),
        fc.constantFrom(
          "text/plain",
          "application/json; charset=utf-16",
          "application/problem+json",
          "multipart/form-data",
        ),
        printable,
      ),
      body: rawBody,
      query,
      id,
      ip: fc.ipV4(),
    });
    let seen = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { "x-forwarded-for": r.ip };
        if (r.auth !== undefined) headers.authorization = r.auth;
        if (r.apiKey !== null) headers["x-api-key"] = r.apiKey;
        if (r.contentType !== undefined) headers["content-type"] = r.contentType;
        const path = t.path.replace("{id}", encodeURIComponent(r.id));
        const qs = new URLSearchParams(r.query).toString();
        let res: Response;
        try {
          res = await fetch(`${api.url}${path}${qs ? `?${qs}` : ""}`, {
            method: t.method,
            headers,
            body: t.method === "GET" ? undefined : r.body,
          });
        } catch (e) {
          // fetch itself refused the request (e.g. a header value it will not send): not ours
          if (e instanceof TypeError && !String(e.message).includes("fetch failed")) return;
          throw e;
        }
        const text = await res.text();
        seen++;
        if (res.status >= 500) {
          throw new Error(
            `${res.status} for ${t.method} ${path}: ${text.slice(0, 300)}\nserver log tail:\n${api.server.logs().slice(-2000)}`,
          );
        }
        if (res.status >= 400 && res.status !== 405 && res.status !== 404) {
          expect(res.headers.get("content-type")).toContain("application/problem+json");
          const body = JSON.parse(text);
          expect(typeof body.code).toBe("string");
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(seen).toBeGreaterThanOrEqual(RUNS * 0.95);
  });

  it("the server logged no stack to clients and is still healthy", async () => {
    const r = await api.call("GET", "/api/v1/health");
    expect(r.status).toBe(200);
  });
});
