// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// @keyward/sdk end to end (PRODUCT.md section 13): a real Keyward server, the three example apps
// (Express, Hono, a Next.js route handler) as their own processes over real HTTP. Keys are
// verified and refused as problem+json, RateLimit headers set, each request's usage (tokens and
// cost) reported with a service credential and attributed to the customer's key, and a Keyward
// outage answered as configured (fail open or closed) until Keyward returns.
import { createKeyward, createKeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "@/lib/keys";
import { startServer, type TestServer, tempDataDir } from "@/tests/helpers/server";
import {
  type ExampleApp,
  ensureSdkBuilt,
  type SdkFixtures,
  seedSdkFixtures,
  startExample,
  startNextExample,
} from "./_setup";

let keyward: TestServer;
let fx: SdkFixtures;
let dataDir: string;
const apps: Partial<Record<"express" | "hono" | "next", ExampleApp>> = {};
// No Redis: the verify limiter's per-address counters would be shared with every other run.
const keywardEnv = { REDIS_URL: undefined };

beforeAll(async () => {
  ensureSdkBuilt();
  dataDir = tempDataDir();
  fx = await seedSdkFixtures(dataDir);
  keyward = await startServer({ dataDir, env: keywardEnv });
  await warmUp();
  const env = {
    KEYWARD_URL: keyward.url,
    KEYWARD_SERVICE_CREDENTIAL: fx.serviceCredential,
    KEYWARD_FLUSH_INTERVAL_MS: "300",
    // Generous: on a loaded shared machine a cold verify can take seconds, and a timeout would
    // turn these tests into outage tests (the outage test stops Keyward: refused at once).
    KEYWARD_TIMEOUT_MS: "20000",
  };
  [apps.express, apps.hono, apps.next] = await Promise.all([
    startExample("express", { ...env, KEYWARD_ON_ERROR: "open" }),
    startExample("hono", { ...env, KEYWARD_ON_ERROR: "closed" }),
    startNextExample({ ...env, KEYWARD_ON_ERROR: "open" }),
  ]);
}, 600_000);

afterAll(async () => {
  await Promise.all(Object.values(apps).map((a) => a?.stop()));
  await keyward?.stop();
});

/** A first verify compiles Keyward's hot path; tests should not time it. */
async function warmUp() {
  await fetch(`${keyward.url}/api/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: fx.reader.key }),
  });
}

async function chat(
  app: ExampleApp,
  headers: Record<string, string>,
  path = app === apps.next ? "/api/chat" : "/v1/chat",
) {
  const res = await fetch(app.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ prompt: "hello" }),
  });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body, text };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The customer key's usage of one endpoint in Keyward's usage API, once `min` requests show. */
async function usageOf(keyId: string, endpoint: string, min: number): Promise<any> {
  let totals: any;
  for (let i = 0; i < 80; i++) {
    const q = new URLSearchParams({ keyId, endpoint });
    const r = await fetch(`${keyward.url}/api/v1/usage?${q}`, { headers: bearer(fx.reader.key) });
    expect(r.status).toBe(200);
    totals = ((await r.json()) as any).totals;
    if (totals.requests >= min) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  return totals;
}

function expectProblem(r: Awaited<ReturnType<typeof chat>>, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code });
  expect(typeof r.body.title).toBe("string");
  expect(r.body.type).toContain(`#error-${code.toLowerCase().replaceAll("_", "-")}`);
}

describe.each(["express", "hono", "next"] as const)("the %s example", (name) => {
  const key = () => fx.keys[name];

  it("lets a valid key through with its RateLimit headers and hands the handler the key", async () => {
    for (const headers of [bearer(key().key), { "x-api-key": key().key }]) {
      const r = await chat(apps[name]!, headers);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ reply: "echo: hello", keyId: key().id, scopes: ["chat:write"] });
      expect(Number(r.headers.get("ratelimit-limit"))).toBe(1000);
      expect(Number(r.headers.get("ratelimit-remaining"))).toBeLessThan(1000);
      expect(r.headers.get("ratelimit-reset")).toMatch(/^\d+$/);
    }
  });

  it("refuses missing, unknown, revoked, out-of-scope and rate-limited keys as problem+json", async () => {
    const app = apps[name]!;
    const missing = await chat(app, {});
    expectProblem(missing, 401, "UNAUTHORIZED");
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    expectProblem(await chat(app, bearer(generateKey("live").key)), 401, "KEY_NOT_FOUND");
    expectProblem(await chat(app, bearer("not-a-key")), 401, "INVALID_FORMAT");
    expectProblem(await chat(app, bearer(fx.keys.revoked.key)), 401, "KEY_REVOKED");
    expectProblem(await chat(app, bearer(fx.keys.noScope.key)), 403, "INSUFFICIENT_SCOPE");
    expectProblem(
      await chat(app, { ...bearer(fx.keys.noScope.key), "x-api-key": fx.keys.noScope.key }),
      400,
      "BAD_REQUEST",
    );
    if (name === "express") {
      // The limited key allows 2 verifications a minute: the third is refused.
      await chat(app, bearer(fx.keys.limited.key));
      await chat(app, bearer(fx.keys.limited.key));
      const limited = await chat(app, bearer(fx.keys.limited.key));
      expectProblem(limited, 429, "RATE_LIMITED");
      expect(limited.headers.get("ratelimit-limit")).toBe("2");
      expect(limited.headers.get("ratelimit-remaining")).toBe("0");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
  });

  it("checks keys' IP allowlists against the client's address", async () => {
    const app = apps[name]!;
    const loopback = await chat(app, bearer(fx.keys.loopbackOnly.key));
    const elsewhere = await chat(app, bearer(fx.keys.elsewhere.key));
    expectProblem(elsewhere, 403, "IP_NOT_ALLOWED");
    if (name === "express") {
      // express() sends req.ip (127.0.0.1 here): inside the key's networks.
      expect(loopback.status, loopback.text).toBe(200);
      expect(loopback.body.keyId).toBe(fx.keys.loopbackOnly.id);
    } else {
      // A Request carries no peer address and these examples set no clientIp: verify gets no
      // `ip`, and a key with an allowlist is refused (docs: packages/sdk/README.md, clientIp).
      expectProblem(loopback, 403, "IP_NOT_ALLOWED");
    }
  });

  it("reports each request's usage (tokens and cost) to Keyward for the customer's key", async () => {
    const endpoint = name === "next" ? "/api/chat" : "/v1/chat";
    // The two requests of the first test, with 11 tokens ("echo: hello") and $0.0021 each.
    const totals = await usageOf(key().id, endpoint, 2);
    expect(totals).toMatchObject({ requests: 2, errors: 0, tokens: 22, costUsd: "0.004200" });
  });
});

describe("usage queued in the app", () => {
  it("is reported on shutdown (SIGTERM) when the timer would not have sent it yet", async () => {
    const app = await startExample("express", {
      KEYWARD_URL: keyward.url,
      KEYWARD_SERVICE_CREDENTIAL: fx.serviceCredential,
      KEYWARD_FLUSH_INTERVAL_MS: "600000",
      KEYWARD_TIMEOUT_MS: "20000",
    });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await chat(app, bearer(fx.keys.shutdown.key), "/v1/chat")).status).toBe(200);
      }
      expect(((await (await fetch(`${app.url}/health`)).json()) as any).pending).toBe(3);
    } finally {
      await app.stop("SIGTERM");
    }
    const totals = await usageOf(fx.keys.shutdown.id, "/v1/chat", 3);
    expect(totals).toMatchObject({ requests: 3, tokens: 33, costUsd: "0.006300" });
  });
});

describe("a Keyward outage", () => {
  it("fails open or closed as configured, and recovers when Keyward returns", async () => {
    const { port } = keyward;
    expect((await chat(apps.express!, bearer(fx.keys.outage.key))).status).toBe(200);
    // Its usage is reported before Keyward stops (a batch in flight at that moment may be sent
    // twice: delivery is at least once, see packages/sdk/README.md).
    expect((await usageOf(fx.keys.outage.id, "/v1/chat", 1)).requests).toBe(1);
    await keyward.stop();

    // Express is configured fail-open: the request goes on, unverified (key null).
    const started = Date.now();
    const open = await chat(apps.express!, bearer(fx.keys.outage.key));
    expect(open.status, open.text).toBe(200);
    expect(open.body.keyId).toBeNull();
    expect(open.headers.get("ratelimit-limit")).toBeNull();
    // Hono is configured fail-closed: 503 UNAVAILABLE with Retry-After.
    const closed = await chat(apps.hono!, bearer(fx.keys.outage.key));
    expectProblem(closed, 503, "UNAVAILABLE");
    expect(closed.headers.get("retry-after")).toBe("1");
    expect(Date.now() - started).toBeLessThan(5000);

    keyward = await startServer({ dataDir, port, env: keywardEnv });
    await warmUp();
    const back = await chat(apps.express!, bearer(fx.keys.outage.key));
    expect(back.status).toBe(200);
    expect(back.body.keyId).toBe(fx.keys.outage.id);
    const honoBack = await chat(apps.hono!, bearer(fx.keys.outage.key));
    expect(honoBack.status, honoBack.text).toBe(200);
    // Metered: the requests before and after the outage (the unverified one names no key).
    const totals = await usageOf(fx.keys.outage.id, "/v1/chat", 3);
    expect(totals.requests, apps.express!.logs() + apps.hono!.logs()).toBe(3);
  }, 300_000);
});

describe("the SDK in-process against the real Keyward", () => {
  it("caches a valid answer for at most cacheTtlMs, unseen by Keyward's limiter meanwhile", async () => {
    // The cached key allows one verification a minute: a second request within the cache's
    // time passes without asking Keyward (the documented trade-off: so would a revoked key);
    // once the entry expires, Keyward is asked again and refuses.
    const kw = createKeyward({ baseUrl: keyward.url, cacheTtlMs: 3000, timeoutMs: 20_000 });
    const handler = kw.protect(async (_req, { key }) => Response.json({ keyId: key?.id }));
    const call = () =>
      handler(new Request("http://app.test/v1/cached", { headers: bearer(fx.keys.cached.key) }));
    const first = await call();
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe("1");
    const cached = await call();
    expect(cached.status).toBe(200);
    expect(((await cached.json()) as any).keyId).toBe(fx.keys.cached.id);
    expect(cached.headers.get("ratelimit-remaining")).toBe("0");
    await new Promise((r) => setTimeout(r, 3100));
    const after = await call();
    expect(after.status).toBe(429);
    expect(((await after.json()) as any).code).toBe("RATE_LIMITED");
    await kw.close();
  });

  it("sends clientIp's address with verify, and never reuses a cached answer for another address", async () => {
    const kw = createKeyward({
      baseUrl: keyward.url,
      cacheTtlMs: 5000,
      timeoutMs: 20_000,
      clientIp: (req) => req.headers.get("x-test-client"),
    });
    const handler = kw.protect(async (_req, { key }) => Response.json({ keyId: key?.id }));
    const call = (client: string | null) =>
      handler(
        new Request("http://app.test/v1/chat", {
          headers: {
            ...bearer(fx.keys.elsewhere.key),
            ...(client ? { "x-test-client": client } : {}),
          },
        }),
      );
    const inside = await call("203.0.113.9");
    expect(inside.status).toBe(200);
    expect(((await inside.json()) as any).keyId).toBe(fx.keys.elsewhere.id);
    // The valid answer for 203.0.113.9 is cached; another address must still be refused.
    const outside = await call("198.51.100.7");
    expect(outside.status).toBe(403);
    expect(((await outside.json()) as any).code).toBe("IP_NOT_ALLOWED");
    expect((await call(null)).status).toBe(403);
    // Hostile or malformed addresses are not sent: refused for the allowlist, not as bad input.
    for (const hostile of ["203.0.113.9, 10.0.0.1", "9".repeat(5000), "<x>"]) {
      const r = await call(hostile);
      expect(r.status, hostile.slice(0, 40)).toBe(403);
      expect(((await r.json()) as any).code).toBe("IP_NOT_ALLOWED");
    }
    // A NUL byte cannot travel in a header; through admit() directly it is dropped the same way.
    const nul = await kw.admit({
      method: "GET",
      url: "http://app.test/v1/chat",
      authorization: `Bearer ${fx.keys.elsewhere.key}`,
      xApiKey: undefined,
      ip: "203.0.113.9\u0000",
    });
    expect(nul.ok).toBe(false);
    expect(!nul.ok && nul.problem.code).toBe("IP_NOT_ALLOWED");
    expect((await call("203.0.113.9")).status).toBe(200);
    await kw.close();
  });

  it("has a typed client for the API (here: the usage report)", async () => {
    const client = createKeywardClient({ baseUrl: keyward.url, apiKey: fx.reader.key });
    const { data, error } = await client.GET("/api/v1/usage", {
      params: { query: { keyId: fx.keys.express.id, endpoint: "/v1/chat" } },
    });
    expect(error).toBeUndefined();
    expect(data?.totals.requests).toBeGreaterThanOrEqual(2);
    const refused = await client.GET("/api/v1/keys", {});
    expect(refused.response.status).toBe(403);
  });
});
