// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are compared field by field
// The lean lane (server.ts serving verify and /me through lib/http/node.ts) and Next's route
// handlers (KEYWARD_LEAN_LANE=0) must be indistinguishable to a client: the same request, sent to
// two servers holding the same fixtures (one seeded folder, copied), gets the same status,
// headers and body, and is metered the same way. limits.test.ts also runs whole against both.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db";
import { generateKey } from "@/lib/keys";
import { type Api, startApiPair } from "./_setup";

// Checksum-valid and never issued: NOT_FOUND on both lanes.
const UNISSUED_TEST_KEY = generateKey("test").key;

let lean: Api;
let route: Api;

// The two servers hold the same keys (same ids), so they must not share rate-limit and quota
// counters: each counts in process, even when the run has a REDIS_URL.
const own = { REDIS_URL: undefined, RATE_LIMIT_STORE: undefined };

beforeAll(async () => {
  [lean, route] = await startApiPair(
    { env: { ...own, KEYWARD_LEAN_LANE: "1" } },
    { env: { ...own, KEYWARD_LEAN_LANE: "0" } },
  );
}, 240_000);
afterAll(async () => {
  await Promise.all([lean?.server.stop(), route?.server.stop()]);
});

type Call = Parameters<Api["call"]>;

/** Headers a client may rely on; values that differ by time or per request are normalized. */
const HEADERS = [
  "content-type",
  "cache-control",
  "x-content-type-options",
  "www-authenticate",
  "ratelimit-policy",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "retry-after",
  "allow",
];

function normalize(r: Awaited<ReturnType<Api["call"]>>) {
  const headers: Record<string, string | null> = {};
  for (const h of HEADERS) {
    const v = r.headers.get(h);
    // Seconds until a window resets depend on when the request landed: keep only their form.
    headers[h] = v !== null && (h === "ratelimit-reset" || h === "retry-after") ? "<seconds>" : v;
  }
  const requestId = r.headers.get("x-request-id");
  const body = r.body && typeof r.body === "object" ? { ...r.body } : r.body;
  if (body && typeof body === "object") {
    if ("requestId" in body) {
      expect(body.requestId).toBe(requestId);
      body.requestId = "<id>";
    }
    if (body.ratelimit?.reset !== undefined) body.ratelimit = { ...body.ratelimit, reset: "<s>" };
    if (typeof body.retryAfter === "number") body.retryAfter = "<s>";
  }
  return { status: r.status, headers, body, hasRequestId: /^req_/.test(requestId ?? "") };
}

async function both(...args: Call) {
  const a = await lean.call(...args);
  const b = await route.call(...args);
  return [normalize(a), normalize(b)] as const;
}

describe("lean lane and route handler answer alike", () => {
  it("POST /api/v1/keys/verify: every outcome and every malformed request", async () => {
    const k = lean.fx.keys;
    const verify = (body: unknown, headers: Record<string, string> = {}): Call => [
      "POST",
      "/api/v1/keys/verify",
      { body, headers: { "x-forwarded-for": "198.51.100.20", ...headers } },
    ];
    const cases: Call[] = [
      verify({ key: k.admin.key }),
      verify({ key: k.admin.key, scopes: ["keys:read", "usage:write"] }),
      verify({ key: k.readOnly.key, scopes: ["keys:write"] }),
      verify({ key: k.revoked.key }),
      verify({ key: k.inactive.key }),
      verify({ key: "pk_live_nope" }),
      verify({ key: UNISSUED_TEST_KEY }),
      verify({ key: k.limited.key }),
      verify({ key: k.limited.key }),
      verify({ key: k.limited.key }),
      verify({ key: k.limited.key }), // the fourth: RATE_LIMITED
      verify({}),
      verify({ key: 5 }),
      verify({ key: k.admin.key, scopes: "keys:read" }),
      verify({ key: k.admin.key, extra: true }),
      [
        "POST",
        "/api/v1/keys/verify",
        { raw: "{", headers: { "content-type": "application/json" } },
      ],
      ["POST", "/api/v1/keys/verify", { raw: "", headers: { "content-type": "application/json" } }],
      [
        "POST",
        "/api/v1/keys/verify",
        { raw: `{"key":"x"}`, headers: { "content-type": "text/plain" } },
      ],
      [
        "POST",
        "/api/v1/keys/verify",
        {
          raw: JSON.stringify({ key: "x".repeat(70_000) }),
          headers: { "content-type": "application/json" },
        },
      ],
      ["POST", `/api/v1/keys/verify?key=${k.admin.key}`, { body: { key: k.admin.key } }],
      ["GET", "/api/v1/keys/verify", {}],
    ];
    for (const c of cases) {
      const [a, b] = await both(...c);
      expect(b, `${c[0]} ${c[1]} ${JSON.stringify(c[2]).slice(0, 120)}`).toEqual(a);
      expect(a.hasRequestId || a.status === 405).toBe(true);
    }
  });

  it("GET /api/v1/me: keys in either header, missing, malformed, ambiguous, revoked, in the URL", async () => {
    const k = lean.fx.keys;
    const cases: Call[] = [
      ["GET", "/api/v1/me", { key: k.admin.key }],
      ["GET", "/api/v1/me", { headers: { "x-api-key": k.readOnly.key } }],
      ["GET", "/api/v1/me", { key: k.test.key }],
      ["GET", "/api/v1/me", {}],
      ["GET", "/api/v1/me", { headers: { authorization: `Basic ${k.admin.key}` } }],
      ["GET", "/api/v1/me", { key: k.admin.key, headers: { "x-api-key": k.admin.key } }],
      ["GET", "/api/v1/me", { key: "pk_live_short" }],
      ["GET", "/api/v1/me", { key: k.revoked.key }],
      ["GET", "/api/v1/me", { key: k.inactive.key }],
      ["GET", `/api/v1/me?api_key=${k.admin.key}`, {}],
      // A service credential only reports usage: 403 when it works, 401 when it does not.
      ["GET", "/api/v1/me", { key: lean.fx.services.all.secret }],
      ["GET", "/api/v1/me", { headers: { "x-api-key": lean.fx.services.orgA.secret } }],
      ["GET", "/api/v1/me", { key: `ksvc_${"q".repeat(43)}` }],
      ["GET", "/api/v1/me", { key: "ksvc_short" }],
      ["GET", `/api/v1/me?token=${lean.fx.services.all.secret}`, {}],
      ["GET", "/api/v1/me", { key: k.limited.key }], // limited to 3/min, used up above: 429
      ["POST", "/api/v1/me", { key: k.admin.key }],
    ];
    for (const c of cases) {
      const [a, b] = await both(...c);
      expect(b, `${c[0]} ${c[1]} ${JSON.stringify(c[2]).slice(0, 120)}`).toEqual(a);
    }
  });

  it("meters the same calls the same way", async () => {
    await Promise.all([lean.server.stop(), route.server.stop()]); // SIGTERM flushes the recorder
    const metered = async (api: Api) => {
      const open = await openDatabase(
        { kind: "pglite", dataDir: api.server.dataDir },
        { shortLived: true },
      );
      try {
        const rows = await open.prisma.apiKeyUsage.groupBy({
          by: ["apiKeyId", "endpoint", "method", "statusCode", "errorCode", "billable"],
          _count: { _all: true },
          orderBy: [{ apiKeyId: "asc" }, { endpoint: "asc" }, { statusCode: "asc" }],
        });
        const keys = await open.prisma.apiKey.findMany({
          select: { id: true, requestCount: true },
          orderBy: { id: "asc" },
        });
        return { rows, keys };
      } finally {
        await open.close();
      }
    };
    const a = await metered(lean);
    const b = await metered(route);
    expect(a.rows.length).toBeGreaterThan(5);
    expect(a.rows.some((r) => r.endpoint === "/api/v1/keys/verify")).toBe(true);
    expect(a.rows.some((r) => r.endpoint === "/api/v1/me" && r.statusCode === 429)).toBe(true);
    // Verify's refusals answer 200 but spend no quota: metered as not billable.
    const verifyRows = a.rows.filter((r) => r.endpoint === "/api/v1/keys/verify");
    expect(verifyRows.some((r) => r.statusCode === 200 && !r.billable)).toBe(true);
    expect(verifyRows.some((r) => r.statusCode === 200 && r.billable)).toBe(true);
    expect(b).toEqual(a);
  });
});
