// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// Credits and spend caps over HTTP: the key fields on create, GET and PATCH (the live balance),
// verify's `cost`, CREDITS_EXHAUSTED on verify and on routes a key calls itself, 422s naming the
// field, and a key never changing its own credits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db";
import { type Api, startApi } from "./_setup";

describe("credits and spend caps over HTTP", () => {
  let api: Api;
  beforeAll(async () => {
    // The embedded default's stores (no Redis even when the run has one): the balances live in
    // the server and are written behind (the last test). Credits in the Redis script are covered
    // by tests/ratelimit/credits.test.ts and every other API file when REDIS_URL is set.
    api = await startApi({ env: { REDIS_URL: undefined, RATE_LIMIT_STORE: undefined } });
  }, 180_000);
  afterAll(async () => {
    await api?.server.stop();
  });

  const admin = () => api.fx.keys.admin.key;
  const create = (body: Record<string, unknown>) =>
    api.call("POST", "/api/v1/keys", { key: admin(), body: { name: "c", ...body } });
  const verify = (body: Record<string, unknown>) =>
    api.call("POST", "/api/v1/keys/verify", { body });

  it("creates a key with credits and a cap, spends `cost`, refuses at too few, shows the live balance", async () => {
    const r = await create({
      scopes: ["keys:read"],
      credits: { remaining: 3, refill: { amount: 5, interval: "day" } },
      spendLimitUsd: "10",
    });
    expect(r.status, r.text).toBe(201);
    expect(r.body.credits).toEqual({ remaining: 3, refill: { amount: 5, interval: "day" } });
    expect(r.body.spendLimitUsd).toBe("10.000000");
    const key = r.body.key;

    expect((await verify({ key, cost: 2 })).body).toMatchObject({
      valid: true,
      code: "VALID",
      credits: { remaining: 1 },
    });
    expect((await verify({ key, cost: 0 })).body).toMatchObject({ credits: { remaining: 1 } });
    const refused = await verify({ key, cost: 2 });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({
      valid: false,
      code: "CREDITS_EXHAUSTED",
      credits: { remaining: 1 },
    });
    // Without credits the answer says so.
    expect((await verify({ key: admin() })).body.credits).toBeNull();

    const got = await api.call("GET", `/api/v1/keys/${r.body.id}`, { key: admin() });
    expect(got.body.credits.remaining).toBe(1);
    const listed = await api.call("GET", "/api/v1/keys?limit=100", { key: admin() });
    expect(listed.body.data.find((k: any) => k.id === r.body.id).credits.remaining).toBe(1);

    // PATCH sets the live balance; the cap can be removed.
    const patched = await api.call("PATCH", `/api/v1/keys/${r.body.id}`, {
      key: admin(),
      body: { credits: { remaining: 4 }, spendLimitUsd: null },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({
      credits: { remaining: 4, refill: null },
      spendLimitUsd: null,
    });
    expect((await verify({ key })).body.credits).toEqual({ remaining: 3 });

    // A route the key calls itself spends 1 too; at 0 it is 429 CREDITS_EXHAUSTED.
    await api.call("PATCH", `/api/v1/keys/${r.body.id}`, {
      key: admin(),
      body: { credits: { remaining: 1 } },
    });
    expect((await api.call("GET", "/api/v1/me", { key })).status).toBe(200);
    const out = await api.call("GET", "/api/v1/me", { key });
    expect(out.status).toBe(429);
    expect(out.body.code).toBe("CREDITS_EXHAUSTED");
    expect(out.headers.get("content-type")).toContain("application/problem+json");

    // Removing the credits lets it through again.
    await api.call("PATCH", `/api/v1/keys/${r.body.id}`, { key: admin(), body: { credits: null } });
    const again = await api.call("GET", "/api/v1/keys?limit=1", { key });
    expect(again.status).toBe(200);
  });

  it("a key cannot change its own credits or spend cap", async () => {
    const r = await create({ scopes: ["keys:read", "keys:write"], credits: { remaining: 10 } });
    const self = await api.call("PATCH", `/api/v1/keys/${r.body.id}`, {
      key: r.body.key,
      body: { credits: { remaining: 1_000_000 } },
    });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe("PRIVILEGE_CEILING");
    const cap = await api.call("PATCH", `/api/v1/keys/${r.body.id}`, {
      key: r.body.key,
      body: { spendLimitUsd: "1000" },
    });
    expect(cap.status).toBe(403);
  });

  it("answers 422 naming the field for bad credits, caps and costs", async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ credits: { remaining: -1 } }, "credits.remaining"],
      [{ credits: { remaining: 1.5 } }, "credits.remaining"],
      [{ credits: { remaining: "3" } }, "credits.remaining"],
      [{ credits: { remaining: 2_000_000_000 } }, "credits.remaining"],
      [
        { credits: { remaining: 1, refill: { amount: 0, interval: "day" } } },
        "credits.refill.amount",
      ],
      [
        { credits: { remaining: 1, refill: { amount: 5, interval: "week" } } },
        "credits.refill.interval",
      ],
      [{ spendLimitUsd: "0" }, "spendLimitUsd"],
      [{ spendLimitUsd: 5 }, "spendLimitUsd"],
      [{ spendLimitUsd: "1.1234567" }, "spendLimitUsd"],
      [{ spendLimitUsd: "abc" }, "spendLimitUsd"],
    ];
    for (const [body, path] of bad) {
      const r = await create(body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.body.code).toBe("VALIDATION_FAILED");
      expect(r.body.issues.map((i: any) => i.path)).toContain(path);
      const p = await api.call("PATCH", `/api/v1/keys/${api.fx.keys.liveTarget.id}`, {
        key: admin(),
        body,
      });
      expect(p.status, `PATCH ${JSON.stringify(body)}`).toBe(422);
    }
    for (const cost of [-1, 1.5, "1", 2_000_000]) {
      const r = await verify({ key: admin(), cost });
      expect(r.status, String(cost)).toBe(422);
      expect(r.body.issues[0].path).toBe("cost");
    }
  });

  // Last: it stops the server. On the embedded default the balances live in the server and are
  // written behind the spends (lib/ratelimit/credits-write-behind.ts, every second); a clean
  // stop writes the rest, so a restart hands no key back what it spent.
  it("a clean stop (SIGTERM) writes every acknowledged spend", async () => {
    const r = await create({ credits: { remaining: 50 } });
    expect(r.status).toBe(201);
    expect((await verify({ key: r.body.key, cost: 7 })).body.credits).toEqual({ remaining: 43 });
    const rs = await Promise.all([1, 2, 3].map(() => verify({ key: r.body.key })));
    expect(rs.map((x) => x.body.code)).toEqual(["VALID", "VALID", "VALID"]);
    expect(await api.server.stop()).toBe(0);
    const open = await openDatabase({ kind: "pglite", dataDir: api.server.dataDir });
    try {
      const rows = await open.prisma.$queryRaw<{ remaining: number }[]>`
        SELECT "remaining" FROM "KeyCreditBalance" WHERE "apiKeyId" = ${r.body.id}::uuid`;
      expect(rows.map((x) => Number(x.remaining))).toEqual([40]);
    } finally {
      await open.close();
    }
  });
});
