// biome-ignore-all lint/suspicious/noExplicitAny: generated values are any shape by design
// Every text and number field of every /api/v1 write route (and the list and usage query
// strings), one hostile value at a time in an otherwise good request, over real HTTP: NUL, lone
// surrogates, control characters, huge strings, huge / negative / fractional / non-finite
// numbers, wrong types. Never a 5xx: a 2xx, or a 4xx problem document (a 422 names the field).
// Afterwards the server still meters: a good call's usage shows up. Seeded (FUZZ_SEED), bounded
// (FUZZ_RUNS per route); fast-check prints the seed and the counterexample on failure.
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "./_setup";

const RUNS = Number(process.env.FUZZ_RUNS ?? 80);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

let api: Api;
/** A key the fuzz may rename, rescope and rotate; never revoked. */
let target: { id: string; key: string };
beforeAll(async () => {
  // The fixtures' expiring key is not used here: a long expiry keeps a slow seed from failing.
  api = await startApi({ expiringInMs: 3_600_000 });
  const r = await api.call("POST", "/api/v1/keys", {
    key: api.fx.keys.fuzz.key,
    body: { name: "fuzz-target", scopes: ["keys:read"] },
  });
  expect(r.status, r.text).toBe(201);
  target = { id: r.body.id, key: r.body.key };
}, 180_000);
afterAll(async () => {
  await api?.server.stop();
});

/** Text nobody should be able to store: NUL, lone surrogates, C0/C1 controls, and sizes. */
const hostileText = fc.oneof(
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\uD800",
    "x\uDFFFy",
    "\uDC00\uD800",
    "\u0001\u0002",
    "\u001B[31mred",
    "line\nbreak",
    "tab\there",
    "cr\rhere",
    "\u007F",
    "\u0085",
    "\u2028",
    "\uFEFF",
    " ",
    "",
    "😀".repeat(60),
    "x".repeat(101),
    "x".repeat(501),
    "x".repeat(5_000),
    "x".repeat(70_000),
    "keys:read\u0000",
    'Robert\'); DROP TABLE "ApiKey";--',
    "%00",
    "\\u0000",
  ),
  fc.string({
    unit: fc.constantFrom("\u0000", "\uD800", "\uDC00", "\u0007", "\n", "\u009F", "a", "é", "😀"),
    maxLength: 40,
  }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ unit: "grapheme", maxLength: 120 }),
);

/** JSON number literals as written (1e999 parses to Infinity) and other types in their place. */
const hostileNumber = fc.oneof(
  fc.constantFrom(
    "0",
    "-1",
    "1.5",
    "-0",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9007199254740993",
    "1e999",
    "-1e999",
    "1e-999",
    "1000001",
    "99999999999999999999999",
    '"12"',
    '"NaN"',
    '"Infinity"',
    "null",
    "true",
    "[]",
    "{}",
    "[1]",
  ),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);

const wrongType = fc.constantFrom("null", "true", "0", "[]", "{}", '["a"]', '{"a":1}', '"x"');

type Kind = "text" | "number" | "texts" | "date";
interface FieldCase {
  method: string;
  path: (id: string) => string;
  /** A good body; the field under test is replaced (`undefined` for query-only routes). */
  body?: Record<string, unknown>;
  field: string;
  kind: Kind;
  /** The field is a query parameter. */
  query?: boolean;
}

const future = () => new Date(Date.now() + 30 * 86_400_000).toISOString();
const CASES: FieldCase[] = [
  ...(["name", "environment"] as const).map((field) => ({
    method: "POST",
    path: () => "/api/v1/keys",
    body: { name: "fuzz", environment: "live" },
    field,
    kind: "text" as Kind,
  })),
  {
    method: "POST",
    path: () => "/api/v1/keys",
    body: { name: "fuzz" },
    field: "scopes",
    kind: "texts",
  },
  {
    method: "POST",
    path: () => "/api/v1/keys",
    body: { name: "fuzz" },
    field: "expiresAt",
    kind: "date",
  },
  {
    method: "POST",
    path: () => "/api/v1/keys",
    body: { name: "fuzz" },
    field: "rateLimitPerMinute",
    kind: "number",
  },
  ...(["name", "scopes", "expiresAt", "rateLimitPerMinute"] as const).map((field) => ({
    method: "PATCH",
    path: (id: string) => `/api/v1/keys/${id}`,
    body: {},
    field,
    kind: (
      { name: "text", scopes: "texts", expiresAt: "date", rateLimitPerMinute: "number" } as const
    )[field] as Kind,
  })),
  {
    method: "DELETE",
    path: (id: string) => `/api/v1/keys/${id}`,
    body: {},
    field: "reason",
    kind: "text",
  },
  {
    method: "POST",
    path: (id: string) => `/api/v1/keys/${id}/rotate`,
    body: {},
    field: "gracePeriod",
    kind: "text",
  },
  {
    method: "POST",
    path: () => "/api/v1/keys/verify",
    body: { key: "pk_live_x" },
    field: "key",
    kind: "text",
  },
  {
    method: "POST",
    path: () => "/api/v1/keys/verify",
    body: { key: "pk_live_x" },
    field: "scopes",
    kind: "texts",
  },
  ...(["environment", "status", "cursor"] as const).map((field) => ({
    method: "GET",
    path: () => "/api/v1/keys",
    field,
    kind: "text" as Kind,
    query: true,
  })),
  { method: "GET", path: () => "/api/v1/keys", field: "limit", kind: "number", query: true },
  ...(["from", "to", "granularity", "keyId", "endpoint"] as const).map((field) => ({
    method: "GET",
    path: () => "/api/v1/usage",
    field,
    kind: "text" as Kind,
    query: true,
  })),
];

/** The field's value as a JSON literal (numbers stay raw so 1e999 reaches the server as text). */
function valueFor(kind: Kind) {
  const text = hostileText.map((s) => JSON.stringify(s));
  switch (kind) {
    case "text":
      return fc.oneof({ weight: 4, arbitrary: text }, hostileNumber, wrongType);
    case "number":
      return fc.oneof({ weight: 4, arbitrary: hostileNumber }, text, wrongType);
    case "date":
      return fc.oneof(
        text,
        fc.constantFrom(
          '"9999-12-31T23:59:59Z"',
          '"0000-01-01T00:00:00Z"',
          '"2026-02-30T00:00:00Z"',
          '"2099-01-01T00:00:00\\u0000Z"',
          `"${future()}"`,
        ),
        hostileNumber,
        wrongType,
      );
    case "texts":
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(hostileText, { maxLength: 4 }).map(JSON.stringify) },
        fc.constant(JSON.stringify(Array.from({ length: 51 }, (_, i) => `s:${i}`))),
        text,
        wrongType,
      );
  }
}

const MARK = "__FUZZ_VALUE__";

async function send(c: FieldCase, literal: string, id: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${api.fx.keys.fuzz.key}` };
  let url = `${api.url}${c.path(id)}`;
  let body: string | undefined;
  if (c.query) {
    // A query value is text: send the string itself (decoded from its JSON literal when it is one).
    let raw: string;
    try {
      const v = JSON.parse(literal);
      raw = typeof v === "string" ? v : literal;
    } catch {
      raw = literal;
    }
    url += `?${new URLSearchParams({ [c.field]: raw })}`;
  } else {
    headers["content-type"] = "application/json";
    body = JSON.stringify({ ...c.body, [c.field]: MARK }).replace(`"${MARK}"`, literal);
  }
  const res = await fetch(url, { method: c.method, headers, body });
  return { res, text: await res.text() };
}

/** Revokes a key the fuzz made (so the organization stays under its active-key limit). */
async function revoke(id: string) {
  const r = await api.call("DELETE", `/api/v1/keys/${id}`, { key: api.fx.keys.fuzz.key });
  expect(r.status, r.text).toBe(200);
}

function expectNo5xx(c: FieldCase, literal: string, res: Response, text: string) {
  const where = `${c.method} ${c.path("{id}")} ${c.field}=${literal.slice(0, 120)}`;
  // A 70,000-character query string is refused by Node's HTTP parser before any of our code
  // runs (431, no body): the one 4xx that cannot be a problem document.
  if (c.query && res.status === 431) return;
  if (res.status >= 500) {
    throw new Error(
      `${res.status} for ${where}: ${text.slice(0, 300)}\nserver log tail:\n${api.server.logs().slice(-2000)}`,
    );
  }
  if (res.status >= 400) {
    expect(res.headers.get("content-type"), where).toContain("application/problem+json");
    const problem = JSON.parse(text);
    expect(typeof problem.code, where).toBe("string");
    if (problem.code === "VALIDATION_FAILED") {
      const paths: string[] = problem.issues.map((i: any) => i.path);
      const field = c.query ? `query.${c.field}` : c.field;
      expect(
        paths.some((p) => p === field || p.startsWith(`${field}.`)),
        `${where}: ${paths.join(",")}`,
      ).toBe(true);
    }
  }
}

/** Requests counted for `keyId` so far (GET /usage by the fuzz key, which sees its org). */
async function requestsOf(keyId: string): Promise<number> {
  const r = await api.call("GET", `/api/v1/usage?keyId=${keyId}`, { key: api.fx.keys.fuzz.key });
  expect(r.status, r.text).toBe(200);
  return r.body.totals.requests;
}

describe("every field of every write route, hostile values", () => {
  it.each(CASES.map((c) => [`${c.method} ${c.path("{id}")} ${c.field}`, c] as const))(
    "%s: never a 5xx; a 422 names the field",
    async (_label, c) => {
      // DELETE and rotate get a key of their own each run, so every accepted value is really
      // written; keys made along the way are revoked again.
      const fresh = c.method === "DELETE" || c.path("{id}").endsWith("/rotate");
      await fc.assert(
        fc.asyncProperty(valueFor(c.kind), async (literal) => {
          let id = target.id;
          if (fresh) {
            const made = await api.call("POST", "/api/v1/keys", {
              key: api.fx.keys.fuzz.key,
              body: { name: "to-revoke" },
            });
            expect(made.status, made.text).toBe(201);
            id = made.body.id;
          }
          const { res, text } = await send(c, literal, id);
          expectNo5xx(c, literal, res, text);
          const made = res.status === 201 || (res.ok && c.method === "POST" && fresh);
          if (made) await revoke(JSON.parse(text).id);
          if (fresh && !(res.ok && c.method === "DELETE")) await revoke(id);
        }),
        // A fresh key per run costs two more calls: half the runs keep the file near a minute.
        { numRuns: fresh ? Math.ceil(RUNS / 2) : RUNS, seed: SEED, endOnFailure: true },
      );
    },
    60_000,
  );

  it("POST /usage/events: a few hostile samples, never a 5xx", async () => {
    // Only samples: the event semantics (what a refused event does to its batch) are tested in
    // tests/api/usage-events.test.ts and tests/usage/metering-isolation.test.ts.
    const good = { endpoint: "/v1/x", method: "GET", statusCode: 200, responseTimeMs: 5 };
    const samples: [string, string][] = [
      ["endpoint", JSON.stringify("/a\u0000b")],
      ["endpoint", JSON.stringify("\uD800")],
      ["endpoint", JSON.stringify("x".repeat(201))],
      ["endpoint", JSON.stringify("line\nbreak")],
      ["method", JSON.stringify("G\u0000T")],
      ["statusCode", "1e999"],
      ["statusCode", "2147483648"],
      ["responseTimeMs", "-1"],
      ["responseTimeMs", "1.5"],
      ["tokens", "99999999999999999999"],
      ["costUsd", "0.1"],
      ["costUsd", JSON.stringify("1\u0000")],
      ["occurredAt", JSON.stringify("2026-01-01T00:00:00\u0000Z")],
      ["keyId", JSON.stringify("not-a-uuid\u0000")],
      ["keyId", JSON.stringify(randomUUID())],
      ["keyId", "[1]"],
    ];
    for (const [field, literal] of samples) {
      const body = JSON.stringify({ events: [{ ...good, [field]: MARK }] }).replace(
        `"${MARK}"`,
        literal,
      );
      const res = await fetch(`${api.url}/api/v1/usage/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${api.fx.keys.fuzz.key}`,
          "content-type": "application/json",
        },
        body,
      });
      const text = await res.text();
      expect(res.status, `${field}=${literal}: ${text}`).toBeLessThan(500);
      if (res.status >= 400) {
        expect(res.headers.get("content-type")).toContain("application/problem+json");
      }
    }
  });

  it("afterwards the server still meters: a good call's usage shows up", async () => {
    const before = await requestsOf(target.id);
    expect((await api.call("GET", "/api/v1/me", { key: target.key })).status).toBe(200);
    let now = before;
    for (let i = 0; i < 40 && now <= before; i++) {
      await new Promise((res) => setTimeout(res, 250));
      now = await requestsOf(target.id);
    }
    expect(now).toBe(before + 1);
    const health = await api.call("GET", "/api/v1/health");
    expect(health.body).toMatchObject({ status: "ok", database: "ok" });
  });
});
