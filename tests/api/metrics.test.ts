// GET /metrics against the real server: the Prometheus text parses with a text-format parser,
// counters move with traffic on both lanes (verify and /me on the lean lane, /api/v1/keys through
// Next's route handlers), and access follows the rules: loopback only without
// KEYWARD_METRICS_TOKEN, the bearer token with it.
import parse, { type PromFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "@/lib/keys";
import { type Api, startApiPair } from "./_setup";

const TOKEN = `metrics-token-${Date.now()}-0123456789abcdef`;
let open: Api;
let guarded: Api;

beforeAll(async () => {
  [open, guarded] = await startApiPair(
    { env: { KEYWARD_METRICS_TOKEN: undefined }, readyTimeoutMs: 230_000 },
    { env: { KEYWARD_METRICS_TOKEN: TOKEN }, readyTimeoutMs: 230_000 },
    // No test here waits for the expiring fixture key; on a busy machine seeding takes seconds.
    600_000,
  );
}, 300_000);
afterAll(async () => {
  await Promise.all([open?.server.stop(), guarded?.server.stop()]);
});

async function scrape(api: Api, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.url}/metrics`, { headers });
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text, families: parse(text) };
}

function family(families: PromFamily[], name: string): PromFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} in the scrape`);
  return f;
}

function value(families: PromFamily[], name: string, labels: Record<string, string> = {}) {
  const sample = family(families, name).metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return sample ? Number(sample.value) : 0;
}

const HISTOGRAM = "keyward_http_request_duration_seconds";

/**
 * One series of the latency histogram, parsed. The parser reads histograms without labels only
 * (it keys buckets by `le` and drops a labelled `_count`), so each series is handed to it alone,
 * its other labels taken off, with its family's HELP and TYPE lines.
 */
function requestCount(text: string, route: string, method: string, status: string): number {
  const labels = `route="${route}",method="${method}",status="${status}"`;
  const lines = text
    .split("\n")
    .filter(
      (l) =>
        l.startsWith(`# HELP ${HISTOGRAM} `) ||
        l.startsWith(`# TYPE ${HISTOGRAM} `) ||
        (l.startsWith(`${HISTOGRAM}_`) && l.includes(labels)),
    )
    .map((l) => l.replace(`,${labels}`, "").replace(`{${labels}}`, ""));
  if (lines.length <= 2) return 0;
  const [only] = family(parse(`${lines.join("\n")}\n`), HISTOGRAM).metrics;
  expect(Number(only?.buckets?.["+Inf"])).toBe(Number(only?.count));
  return Number(only?.count ?? 0);
}

describe("GET /metrics", () => {
  it("parses, names every family with its type, and carries no key", async () => {
    const { text, families } = await scrape(open);
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      keyward_verifies_total: "COUNTER",
      keyward_http_request_duration_seconds: "HISTOGRAM",
      keyward_usage_queue_depth: "GAUGE",
      keyward_usage_events_written_total: "COUNTER",
      keyward_usage_events_dropped_total: "COUNTER",
      keyward_dependency_up: "GAUGE",
      keyward_webhook_deliveries_total: "COUNTER",
      keyward_process_cpu_seconds_total: "COUNTER",
    });
    const reasons = family(families, "keyward_usage_events_dropped_total")
      .metrics.map((m) => m.labels?.reason)
      .sort();
    expect(reasons).toEqual(
      [
        "buffer_full",
        "invalid_text",
        "malformed",
        "orphaned",
        "out_of_range",
        "rejected",
        "shutdown",
      ].sort(),
    );
    expect(value(families, "keyward_dependency_up", { dependency: "database" })).toBe(1);
    expect(value(families, "keyward_usage_queue_depth")).toBeGreaterThanOrEqual(0);
    for (const key of open.fx.plaintexts) expect(text).not.toContain(key);
  });

  it("counters move with traffic on both lanes", async () => {
    const { text: beforeText, families: before } = await scrape(open);
    const admin = open.fx.keys.admin.key;
    for (let i = 0; i < 3; i++) {
      const r = await open.call("POST", "/api/v1/keys/verify", { body: { key: admin } });
      expect(r.body.code).toBe("VALID");
    }
    const unknown = generateKey("live").key;
    for (let i = 0; i < 2; i++) {
      const r = await open.call("POST", "/api/v1/keys/verify", { body: { key: unknown } });
      expect(r.body.code).toBe("NOT_FOUND");
    }
    expect((await open.call("GET", "/api/v1/me", { key: admin })).status).toBe(200);
    expect((await open.call("GET", "/api/v1/keys", { key: admin })).status).toBe(200);
    expect((await open.call("GET", "/api/v1/keys", {})).status).toBe(401);

    const { text: afterText, families: after } = await scrape(open);
    const delta = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta("keyward_verifies_total", { code: "VALID" })).toBe(3);
    expect(delta("keyward_verifies_total", { code: "NOT_FOUND" })).toBe(2);
    const count = (r: string, m: string, s: string) =>
      requestCount(afterText, r, m, s) - requestCount(beforeText, r, m, s);
    expect(count("/api/v1/keys/verify", "POST", "200")).toBe(5);
    expect(count("/api/v1/me", "GET", "200")).toBe(1);
    expect(count("/api/v1/keys", "GET", "200")).toBe(1);
    expect(count("/api/v1/keys", "GET", "401")).toBe(1);
    // The usage recorder writes what the calls metered (within its one-second timer): the three
    // valid verifies, /me and the listing; an unknown key and a call without one name no key.
    await expect
      .poll(
        async () =>
          value((await scrape(open)).families, "keyward_usage_events_written_total") -
          value(before, "keyward_usage_events_written_total"),
        { timeout: 10_000 },
      )
      .toBe(5);
  });

  it("without a token, answers loopback callers only: 403 problem+json otherwise", async () => {
    const res = await fetch(`${open.url}/metrics`, {
      headers: { "x-forwarded-for": "203.0.113.7" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = await res.json();
    expect(body).toMatchObject({ status: 403, code: "FORBIDDEN" });
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
    await scrape(open, { "x-forwarded-for": "::1" });
  });

  it("with KEYWARD_METRICS_TOKEN, needs the bearer token from any address", async () => {
    for (const authorization of [undefined, "Bearer wrong-token-0123456789", `Basic ${TOKEN}`]) {
      const res = await fetch(`${guarded.url}/metrics`, {
        headers: authorization ? { authorization } : {},
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      const body = await res.json();
      expect(body.code).toBe("UNAUTHORIZED");
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    }
    const { families } = await scrape(guarded, {
      authorization: `Bearer ${TOKEN}`,
      "x-forwarded-for": "203.0.113.7",
    });
    expect(value(families, "keyward_dependency_up", { dependency: "database" })).toBe(1);
  });
});
