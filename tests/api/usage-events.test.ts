// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// POST /api/v1/usage/events over real HTTP: each event is checked on its own (a 202 that lists
// every refused event by index and why; 422 when none is accepted), and a tenant's poison never
// stops another organization's metering (PRODUCT.md section 8).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_EVENT_TOKENS } from "@/lib/validation/usage";
import { type Api, startApi } from "./_setup";

let api: Api;
beforeAll(async () => {
  api = await startApi();
}, 180_000);
afterAll(async () => {
  await api?.server.stop();
});

const good = (i: number) => ({
  endpoint: "/v1/isolation",
  method: "POST",
  statusCode: 200,
  responseTimeMs: 5 + i,
  tokens: 2,
  costUsd: "0.000010",
});

async function requestCount(key: string, id: string): Promise<number> {
  const r = await api.call("GET", `/api/v1/keys/${id}`, { key });
  expect(r.status).toBe(200);
  return r.body.requestCount;
}

describe("POST /api/v1/usage/events, event by event", () => {
  it("accepts the good events of a mixed batch and refuses each bad one by index", async () => {
    const events = [
      good(0),
      { ...good(1), endpoint: "/a\u0000b" },
      good(2),
      { ...good(3), costUsd: "5.000001" },
      { ...good(4), tokens: MAX_EVENT_TOKENS + 1, method: "get" },
      good(5),
      "not an event",
    ];
    const r = await api.call("POST", "/api/v1/usage/events", {
      key: api.fx.keys.admin.key,
      body: { events },
    });
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(3);
    expect(
      r.body.refused.map((x: any) => [x.index, x.code, x.issues.map((i: any) => i.path).sort()]),
    ).toEqual([
      [1, "VALIDATION_FAILED", ["events.1.endpoint"]],
      [3, "VALIDATION_FAILED", ["events.3.costUsd"]],
      [4, "VALIDATION_FAILED", ["events.4.method", "events.4.tokens"]],
      [6, "VALIDATION_FAILED", ["events.6"]],
    ]);
    // The three accepted events are written: the usage report of that endpoint counts them.
    let totals: any;
    for (let i = 0; i < 40; i++) {
      const report = await api.call("GET", "/api/v1/usage?endpoint=%2Fv1%2Fisolation", {
        key: api.fx.keys.readOnly.key,
      });
      totals = report.body?.totals;
      if (totals?.requests >= 3) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(totals).toMatchObject({ requests: 3, tokens: 6, costUsd: "0.000030" });
  });

  it("answers 422 with every event's refusal when none is accepted", async () => {
    const r = await api.call("POST", "/api/v1/usage/events", {
      key: api.fx.keys.admin.key,
      body: {
        events: [
          { ...good(0), endpoint: "/x\u0000" },
          { ...good(1), statusCode: 99 },
        ],
      },
    });
    expect(r.status).toBe(422);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
    expect(r.body.code).toBe("VALIDATION_FAILED");
    expect(r.body.refused.map((x: any) => x.index)).toEqual([0, 1]);
    expect(r.body.issues.map((i: any) => i.path)).toEqual([
      "events.0.endpoint",
      "events.1.statusCode",
    ]);
  });

  it("the list's own bounds still hold: none, or more than 1,000, is a 422 for the body", async () => {
    for (const events of [[], Array.from({ length: 1_001 }, (_, i) => good(i))]) {
      const r = await api.call("POST", "/api/v1/usage/events", {
        key: api.fx.keys.admin.key,
        body: { events },
      });
      expect(r.status).toBe(422);
      expect(r.body.issues.map((i: any) => i.path)).toEqual(["events"]);
    }
  });

  it("after another organization's poison, this organization's metering keeps moving", async () => {
    // Organization A (admin key) sends poison in several shapes, many times.
    for (let n = 0; n < 5; n++) {
      const r = await api.call("POST", "/api/v1/usage/events", {
        key: api.fx.keys.admin.key,
        body: {
          events: [
            { ...good(n), endpoint: `/p\u0000${n}` },
            { ...good(n), costUsd: "99999999.999999" },
            { ...good(n), responseTimeMs: 2_147_483_647 },
            good(n),
          ],
        },
      });
      expect(r.status).toBe(202);
      expect(r.body.accepted).toBe(1);
    }
    // Organization B's key: 20 calls, each metered; its requestCount follows.
    const b = api.fx.keys.otherOrg;
    const before = await requestCount(b.key, b.id);
    for (let i = 0; i < 20; i++) {
      expect((await api.call("GET", "/api/v1/me", { key: b.key })).status).toBe(200);
    }
    let after = before;
    for (let i = 0; i < 40 && after < before + 21; i++) {
      await new Promise((res) => setTimeout(res, 250));
      after = await requestCount(b.key, b.id);
    }
    // The 20 calls, the first GET of the count and those since, all metered.
    expect(after).toBeGreaterThanOrEqual(before + 21);

    // Nothing reached the database that it refused: the health detail says nothing was dropped.
    const health = await api.call("GET", "/api/v1/health");
    expect(health.status).toBe(200);
    expect(health.body.metering).toMatchObject({
      droppedByReason: { invalid_text: 0, out_of_range: 0, rejected: 0, buffer_full: 0 },
    });
    expect(health.body.metering.written).toBeGreaterThan(0);
    expect(health.body.metering.pending).toBeGreaterThanOrEqual(0);
  });

  it("the OpenAPI document shows each event's bounds and the refusal answer", async () => {
    const doc = (await api.call("GET", "/api/v1/openapi.json")).body;
    const event = doc.components.schemas.UsageEvent;
    expect(event.properties.tokens.maximum).toBe(MAX_EVENT_TOKENS);
    expect(event.properties.responseTimeMs.maximum).toBe(600_000);
    expect(event.properties.endpoint.maxLength).toBe(200);
    expect(event.properties.costUsd.pattern).toBeDefined();
    const accepted = doc.components.schemas.UsageEventsAccepted;
    expect(Object.keys(accepted.properties).sort()).toEqual(["accepted", "refused"]);
    const op = doc.paths["/api/v1/usage/events"].post;
    expect(op.requestBody.content["application/json"].schema.$ref).toBe(
      "#/components/schemas/UsageEventsRequest",
    );
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["202", "422", "503"]));
    expect(doc.components.schemas.Health.properties.metering).toBeDefined();
  });
});
