// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// Verify's outcomes over HTTP, rate limits and quotas with their headers, and the per-address
// limit on failed verifications.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "@/lib/keys";
import { type Api, startApi } from "./_setup";

// The whole file runs against both ways of serving verify and /me: the lean lane and Next's
// route handlers (KEYWARD_LEAN_LANE=0). tests/api/lanes.test.ts compares their answers.
describe.each([
  ["lean lane", "1"],
  ["route handler", "0"],
])("POST /api/v1/keys/verify (%s)", (_lane, leanLane) => {
  let api: Api;
  beforeAll(async () => {
    api = await startApi({ expiringInMs: 1000, env: { KEYWARD_LEAN_LANE: leanLane } });
  }, 180_000);
  afterAll(async () => {
    await api?.server.stop();
  });

  const verify = (body: unknown, headers: Record<string, string> = {}) =>
    api.call("POST", "/api/v1/keys/verify", { body, headers });

  it("answers 200 with valid and a stable code for every outcome", async () => {
    const k = api.fx.keys;
    await new Promise((r) =>
      setTimeout(r, Math.max(0, k.expiring.expiresAt.getTime() - Date.now() + 50)),
    );
    const cases: [unknown, string][] = [
      [{ key: k.admin.key }, "VALID"],
      [{ key: k.admin.key, scopes: ["keys:read", "usage:write"] }, "VALID"],
      [{ key: "pk_live_nope" }, "INVALID_FORMAT"],
      [{ key: "" }, "INVALID_FORMAT"],
      [{ key: generateKey("test").key }, "NOT_FOUND"],
      [{ key: k.revoked.key }, "REVOKED"],
      [{ key: k.expiring.key }, "EXPIRED"],
      [{ key: k.readOnly.key, scopes: ["keys:write"] }, "INSUFFICIENT_SCOPE"],
      [{ key: k.inactive.key }, "ORG_INACTIVE"],
    ];
    for (const [body, code] of cases) {
      const r = await verify(body, { "x-forwarded-for": "198.51.100.1" });
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(r.body.code).toBe(code);
      expect(r.body.valid).toBe(code === "VALID");
      expect(Object.keys(r.body).sort()).toEqual([
        "code",
        "credits",
        "environment",
        "expiresAt",
        "externalId",
        "keyId",
        "meta",
        "organizationId",
        "ratelimit",
        "scopes",
        "valid",
      ]);
    }
    const ok = await verify({ key: k.admin.key });
    expect(ok.body).toMatchObject({
      keyId: k.admin.id,
      organizationId: api.fx.orgA,
      environment: "live",
      ratelimit: { limit: 10_000 },
    });
    expect(ok.headers.get("ratelimit-limit")).toBe("10000");
    const revoked = await verify({ key: k.revoked.key });
    expect(revoked.body).toMatchObject({ keyId: k.revoked.id, ratelimit: null });
  });

  it("answers 422 / 400 for malformed requests", async () => {
    const missing = await verify({});
    expect(missing.status).toBe(422);
    expect(missing.body.issues[0].path).toBe("key");
    expect((await verify({ key: 5 })).status).toBe(422);
    expect(
      (
        await api.call("POST", "/api/v1/keys/verify", {
          raw: "{",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(400);
  });

  it("counts against the key's own limit: RATE_LIMITED with headers", async () => {
    const k = api.fx.keys.limited;
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await verify({ key: k.key });
      expect(r.body.code).toBe("VALID");
      remaining.push(r.headers.get("ratelimit-remaining")!);
      expect(r.body.ratelimit.remaining).toBe(Number(remaining[i]));
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const r = await verify({ key: k.key });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      valid: false,
      code: "RATE_LIMITED",
      ratelimit: { limit: 3, remaining: 0 },
    });
    expect(r.body.ratelimit.reset).toBeGreaterThan(0);
    expect(r.body.ratelimit.reset).toBeLessThanOrEqual(120);
    // the same key on an authenticated route: 429 with Retry-After in seconds
    const me = await api.call("GET", "/api/v1/me", { key: k.key });
    expect(me.status).toBe(429);
    expect(me.body.code).toBe("RATE_LIMITED");
    expect(me.headers.get("content-type")).toContain("application/problem+json");
    const retry = me.headers.get("retry-after")!;
    expect(retry).toMatch(/^\d+$/);
    expect(Number(retry)).toBeGreaterThanOrEqual(1);
    expect(Number(retry)).toBeLessThanOrEqual(120);
    expect(me.headers.get("ratelimit-limit")).toBe("3");
    expect(me.headers.get("ratelimit-remaining")).toBe("0");
    expect(me.body.retryAfter).toBe(Number(retry));
    // other keys are not affected
    expect((await verify({ key: api.fx.keys.admin.key })).body.code).toBe("VALID");
  });

  it("the organization's monthly quota: QUOTA_EXCEEDED, 429 with Retry-After until the next month", async () => {
    const k = api.fx.keys.quota;
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push((await verify({ key: k.key })).body.code);
    expect(codes).toEqual(["VALID", "VALID", "VALID"]);
    expect((await verify({ key: k.key })).body.code).toBe("QUOTA_EXCEEDED");
    const me = await api.call("GET", "/api/v1/me", { key: k.key });
    expect(me.status).toBe(429);
    expect(me.body.code).toBe("QUOTA_EXCEEDED");
    const now = new Date();
    const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    expect(
      Math.abs(Number(me.headers.get("retry-after")) - (nextMonth - Date.now()) / 1000),
    ).toBeLessThan(10);
  });

  it("failed attempts are limited per client address; valid keys from that address are not", async () => {
    const addr = { "x-forwarded-for": "203.0.113.77" };
    let limited: any = null;
    for (let i = 0; i < 150 && !limited; i++) {
      const r = await verify({ key: generateKey("live").key }, addr);
      if (r.status === 429) limited = r;
      else expect(r.body.code).toBe("NOT_FOUND");
    }
    expect(limited).not.toBeNull();
    expect(limited.body.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // a valid key from the same address verifies, many times
    for (let i = 0; i < 20; i++) {
      const r = await verify({ key: api.fx.keys.admin.key }, addr);
      expect(r.status).toBe(200);
      expect(r.body.code).toBe("VALID");
    }
    // another address is not affected
    const other = await verify(
      { key: generateKey("live").key },
      { "x-forwarded-for": "203.0.113.78" },
    );
    expect(other.status).toBe(200);
    expect(other.body.code).toBe("NOT_FOUND");
  });
});
