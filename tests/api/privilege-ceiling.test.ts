// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// "A key never grants more than it holds" (PRODUCT.md section 8) over real HTTP against the built
// app: a key creates, changes and rotates keys only within its own scopes, expiry, limit and
// environment, never changes its own; rotation keeps the source's expiry and takes a slot under
// the plan's active keys, grace-period keys included, also under concurrent requests. Runs on the
// embedded database always and on PostgreSQL too when DATABASE_URL is set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenDatabase, openDatabase } from "@/lib/db";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { createKey } from "@/lib/services/keys";
import { createPostgresDatabase } from "@/tests/helpers/db";
import { migratedDataDir, startServer, type TestServer } from "@/tests/helpers/server";

const DAY = 86_400_000;
const operator: Actor = { type: "system", id: "ceiling-tests" };
const KEYS_RW = ["keys:read", "keys:write"];

interface Made {
  key: string;
  id: string;
  expiresAt: string | null;
}

/** Organizations and keys made through the key service before the server starts. */
async function seed(db: OpenDatabase["prisma"]) {
  const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const org = (name: string, maxActiveKeys: number) =>
    organizationRepository.create(db, {
      name: `${name} ${stamp}`,
      email: `${name.toLowerCase()}-${stamp}@example.test`,
      plan: "PRO", // 1,000 requests per minute per key
      maxActiveKeys,
    });
  const main = await org("Ceiling", 100);
  const chain = await org("Chain", 3);
  const race = await org("Race", 5);
  const mk = async (
    organizationId: string,
    name: string,
    scopes: string[],
    extra: { environment?: "live" | "test"; expiresAt?: Date; rateLimitPerMinute?: number } = {},
  ): Promise<Made> => {
    const r = await createKey(
      db,
      { organizationId, name, environment: extra.environment ?? "live", scopes, ...extra },
      operator,
    );
    return { key: r.key, id: r.apiKey.id, expiresAt: r.apiKey.expiresAt };
  };
  const inTwoDays = new Date(Date.now() + 2 * DAY);
  const limitedRights = { expiresAt: inTwoDays, rateLimitPerMinute: 100 };
  return {
    orgIds: { main: main.id, chain: chain.id, race: race.id },
    // The key of the report: keys:read,keys:write, expiring in 2 days, its own 100 per minute.
    limited: await mk(main.id, "limited", KEYS_RW, limitedRights),
    // The same rights, to rotate itself (a rotated key's expiry becomes its grace period's end).
    rotator: await mk(main.id, "rotator", KEYS_RW, limitedRights),
    // keys:write that never expires, with the plan's limit.
    forever: await mk(main.id, "forever", KEYS_RW),
    admin: await mk(main.id, "admin", [...KEYS_RW, "usage:read", "usage:write"]),
    test: await mk(main.id, "test-writer", KEYS_RW, { environment: "test" }),
    chainer: await mk(chain.id, "chainer", KEYS_RW),
    racer: await mk(race.id, "racer", KEYS_RW),
    raceFill: [await mk(race.id, "fill-1", []), await mk(race.id, "fill-2", [])],
  };
}
type Fixtures = Awaited<ReturnType<typeof seed>>;

interface Target {
  name: string;
  start(): Promise<{ server: TestServer; fx: Fixtures }>;
}

const targets: Target[] = [
  {
    name: "embedded",
    async start() {
      const dataDir = await migratedDataDir();
      const open = await openDatabase({ kind: "pglite", dataDir }, { shortLived: true });
      let fx: Fixtures;
      try {
        fx = await seed(open.prisma);
      } finally {
        await open.close();
      }
      const server = await startServer({ dataDir, env: { DATABASE_URL: undefined } });
      return { server, fx };
    },
  },
];
if (process.env.DATABASE_URL) {
  targets.push({
    name: "postgres",
    async start() {
      const { url, drop } = await createPostgresDatabase();
      const open = await openDatabase({ kind: "postgres", url });
      let fx: Fixtures;
      try {
        fx = await seed(open.prisma);
      } finally {
        await open.close();
      }
      const server = await startServer({ env: { DATABASE_URL: url } });
      server.exited.then(() => drop().catch(() => {}));
      return { server, fx };
    },
  });
}

describe.each(targets.map((t) => [t.name, t] as const))("privilege ceiling on %s", (_n, target) => {
  let server: TestServer;
  let fx: Fixtures;

  beforeAll(async () => {
    ({ server, fx } = await target.start());
  }, 240_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function call(method: string, path: string, key: string, body?: unknown) {
    const res = await fetch(server.url + path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  }

  /** 403 PRIVILEGE_CEILING as problem+json, naming `field` in issues[0].path. */
  function refused(r: { status: number; body: any }, field: string) {
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    expect(r.body).toMatchObject({ status: 403, code: "PRIVILEGE_CEILING" });
    expect(r.body.issues?.[0]?.path).toBe(field);
    expect(r.body.detail).toEqual(expect.any(String));
  }

  const get = (id: string) => call("GET", `/api/v1/keys/${id}`, fx.admin.key);
  const far = "2035-01-01T00:00:00.000Z";

  describe("the six escalations of the report, each refused with the field named", () => {
    it("create a key with scopes the caller lacks: scopes", async () => {
      const r = await call("POST", "/api/v1/keys", fx.limited.key, {
        name: "wider",
        scopes: ["usage:read", "usage:write"],
      });
      refused(r, "scopes");
      expect(r.body.detail).toContain("usage:read");
    });

    it("create a key that never expires (or expires after the caller): expiresAt", async () => {
      refused(
        await call("POST", "/api/v1/keys", fx.limited.key, { name: "forever", expiresAt: null }),
        "expiresAt",
      );
      refused(
        await call("POST", "/api/v1/keys", fx.limited.key, { name: "later", expiresAt: far }),
        "expiresAt",
      );
    });

    it("PATCH itself to add scopes: scopes", async () => {
      refused(
        await call("PATCH", `/api/v1/keys/${fx.limited.id}`, fx.limited.key, {
          scopes: [...KEYS_RW, "usage:read", "usage:write"],
        }),
        "scopes",
      );
    });

    it("PATCH itself to expire in 2035 (or never): expiresAt", async () => {
      const path = `/api/v1/keys/${fx.limited.id}`;
      refused(await call("PATCH", path, fx.limited.key, { expiresAt: far }), "expiresAt");
      refused(await call("PATCH", path, fx.limited.key, { expiresAt: null }), "expiresAt");
      // Not even earlier: a key does not change its own expiry at all.
      const sooner = new Date(Date.now() + DAY).toISOString();
      refused(await call("PATCH", path, fx.limited.key, { expiresAt: sooner }), "expiresAt");
    });

    it("PATCH itself to 1,000,000 a minute (or the plan's): rateLimitPerMinute", async () => {
      const path = `/api/v1/keys/${fx.limited.id}`;
      refused(
        await call("PATCH", path, fx.limited.key, { rateLimitPerMinute: 1_000_000 }),
        "rateLimitPerMinute",
      );
      refused(
        await call("PATCH", path, fx.limited.key, { rateLimitPerMinute: null }),
        "rateLimitPerMinute",
      );
      const after = await get(fx.limited.id);
      expect(after.body).toMatchObject({
        scopes: KEYS_RW,
        rateLimitPerMinute: 100,
        expiresAt: fx.limited.expiresAt,
      });
    });

    it("rotate itself: the successor keeps the source's expiry (no expiry-free successor)", async () => {
      const r = await call("POST", `/api/v1/keys/${fx.rotator.id}/rotate`, fx.rotator.key, {
        gracePeriod: "1h",
        expiresAt: null, // not a rotation field: ignored, never a way out of the expiry
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(fx.rotator.expiresAt).not.toBeNull();
      expect(r.body.expiresAt).toBe(fx.rotator.expiresAt);
      expect(r.body).toMatchObject({ scopes: KEYS_RW, rateLimitPerMinute: 100 });
      expect(Date.parse(r.body.previousKey.expiresAt)).toBeLessThanOrEqual(
        Date.parse(fx.rotator.expiresAt!),
      );
      // The successor, now a caller itself, is held to the same expiry.
      refused(
        await call("POST", "/api/v1/keys", r.body.key, { name: "x", expiresAt: null }),
        "expiresAt",
      );
    });
  });

  describe("what stays allowed", () => {
    it("a subset of scopes, an earlier expiry and a lower limit", async () => {
      const expiresAt = new Date(Date.now() + DAY).toISOString();
      const r = await call("POST", "/api/v1/keys", fx.limited.key, {
        name: "narrower",
        scopes: ["keys:read"],
        expiresAt,
        rateLimitPerMinute: 50,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ scopes: ["keys:read"], expiresAt, rateLimitPerMinute: 50 });
      // The same expiry and limit as the caller's own are within it too.
      const same = await call("POST", "/api/v1/keys", fx.limited.key, {
        name: "as-much",
        scopes: KEYS_RW,
        expiresAt: fx.limited.expiresAt,
        rateLimitPerMinute: 100,
      });
      expect(same.status, JSON.stringify(same.body)).toBe(201);
    });

    it("an omitted expiry and limit become the caller's own", async () => {
      const r = await call("POST", "/api/v1/keys", fx.limited.key, { name: "defaults" });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({
        expiresAt: fx.limited.expiresAt,
        rateLimitPerMinute: 100,
        scopes: [],
      });
    });

    it("a key renames itself, and may send its own values back unchanged", async () => {
      const r = await call("PATCH", `/api/v1/keys/${fx.limited.id}`, fx.limited.key, {
        name: "limited-renamed",
        scopes: [...KEYS_RW].reverse(),
        expiresAt: fx.limited.expiresAt,
        rateLimitPerMinute: 100,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({
        name: "limited-renamed",
        rateLimitPerMinute: 100,
        expiresAt: fx.limited.expiresAt,
      });
      expect([...r.body.scopes].sort()).toEqual(KEYS_RW);
    });

    it("a non-expiring keys:write key creates non-expiring keys", async () => {
      const explicit = await call("POST", "/api/v1/keys", fx.forever.key, {
        name: "forever-child",
        scopes: ["keys:read"],
        expiresAt: null,
      });
      expect(explicit.status, JSON.stringify(explicit.body)).toBe(201);
      expect(explicit.body).toMatchObject({ expiresAt: null, rateLimitPerMinute: null });
      const omitted = await call("POST", "/api/v1/keys", fx.forever.key, { name: "forever-2" });
      expect(omitted.status).toBe(201);
      expect(omitted.body.expiresAt).toBeNull();
      // Its limit is the plan's 1,000: up to that it may grant, not past it.
      refused(
        await call("POST", "/api/v1/keys", fx.forever.key, {
          name: "fast",
          rateLimitPerMinute: 1001,
        }),
        "rateLimitPerMinute",
      );
    });
  });

  describe("another key, changed or rotated by a key", () => {
    it("PATCH of another key is held to the caller's scopes, expiry and limit", async () => {
      const first = new Date(Date.now() + DAY).toISOString();
      const target = await call("POST", "/api/v1/keys", fx.forever.key, {
        name: "target",
        scopes: ["keys:read"],
        expiresAt: first,
        rateLimitPerMinute: 50,
      });
      expect(target.status).toBe(201);
      const path = `/api/v1/keys/${target.body.id}`;
      const k = fx.limited.key;
      refused(await call("PATCH", path, k, { scopes: ["keys:read", "usage:read"] }), "scopes");
      refused(await call("PATCH", path, k, { expiresAt: far }), "expiresAt");
      refused(await call("PATCH", path, k, { expiresAt: null }), "expiresAt");
      refused(await call("PATCH", path, k, { rateLimitPerMinute: 101 }), "rateLimitPerMinute");
      // null is the plan's 1,000 a minute, above the caller's 100.
      refused(await call("PATCH", path, k, { rateLimitPerMinute: null }), "rateLimitPerMinute");
      // Nothing changed, and a change within the caller's rights goes through.
      expect((await get(target.body.id)).body).toMatchObject({
        scopes: ["keys:read"],
        expiresAt: first,
        rateLimitPerMinute: 50,
      });
      const expiresAt = new Date(Date.now() + 1.5 * DAY).toISOString();
      const ok = await call("PATCH", path, k, {
        scopes: KEYS_RW,
        expiresAt,
        rateLimitPerMinute: 100,
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body).toMatchObject({ scopes: KEYS_RW, expiresAt, rateLimitPerMinute: 100 });
    });

    it("a field sent back unchanged is no grant: a narrower key may rename a wider one", async () => {
      // A key set up by a wider caller keeps what it has when a narrower key leaves it alone:
      // sending a value back unchanged is no grant, so it is not refused either.
      const wide = await call("POST", "/api/v1/keys", fx.forever.key, {
        name: "wide",
        scopes: ["keys:read"],
      });
      const path = `/api/v1/keys/${wide.body.id}`;
      const same = await call("PATCH", path, fx.limited.key, {
        name: "wide-renamed",
        expiresAt: null,
        rateLimitPerMinute: null,
      });
      expect(same.status, JSON.stringify(same.body)).toBe(200);
      expect(same.body).toMatchObject({
        name: "wide-renamed",
        expiresAt: null,
        rateLimitPerMinute: null,
      });
    });

    it("a key rotates only keys it could have made: not wider scopes, not a longer life", async () => {
      refused(
        await call("POST", `/api/v1/keys/${fx.admin.id}/rotate`, fx.limited.key, {
          gracePeriod: "none",
        }),
        "scopes",
      );
      const forever = await call("POST", "/api/v1/keys", fx.forever.key, {
        name: "no-expiry",
        scopes: ["keys:read"],
      });
      refused(
        await call("POST", `/api/v1/keys/${forever.body.id}/rotate`, fx.limited.key, {
          gracePeriod: "none",
        }),
        "expiresAt",
      );
      // Both keys are as they were: not rotated, still active.
      for (const id of [fx.admin.id, forever.body.id]) {
        expect((await get(id)).body).toMatchObject({ status: "active", rotatedToId: null });
      }
    });

    it("a test key creates only test keys", async () => {
      const live = await call("POST", "/api/v1/keys", fx.test.key, {
        name: "live-from-test",
        environment: "live",
      });
      refused(live, "environment");
      const test = await call("POST", "/api/v1/keys", fx.test.key, { name: "test-from-test" });
      expect(test.status).toBe(201);
      expect(test.body.environment).toBe("test");
    });
  });

  describe("the plan's active keys, grace-period keys included", () => {
    const count = async (key: string) => {
      const r = await call("GET", "/api/v1/keys?status=active&limit=100", key);
      expect(r.status).toBe(200);
      return r.body.data.length as number;
    };

    it("chained rotations with a grace period hit the limit; creates count grace keys too", async () => {
      // Chain: at most 3 active keys; "chainer" is one.
      const k = fx.chainer.key;
      const a = await call("POST", "/api/v1/keys", k, { name: "chain-a" });
      expect(a.status).toBe(201); // 2 active
      const b = await call("POST", `/api/v1/keys/${a.body.id}/rotate`, k, { gracePeriod: "1h" });
      expect(b.status, JSON.stringify(b.body)).toBe(200); // 3: chainer, a (grace), b
      const c = await call("POST", `/api/v1/keys/${b.body.id}/rotate`, k, { gracePeriod: "1h" });
      expect(c.status, JSON.stringify(c.body)).toBe(409);
      expect(c.body.code).toBe("KEY_LIMIT_REACHED");
      const d = await call("POST", "/api/v1/keys", k, { name: "one-more" });
      expect(d.status).toBe(409);
      expect(d.body.code).toBe("KEY_LIMIT_REACHED");
      expect(await count(k)).toBe(3);
      // Without a grace period the source is revoked at once: no extra slot, so it still works.
      const e = await call("POST", `/api/v1/keys/${b.body.id}/rotate`, k, { gracePeriod: "none" });
      expect(e.status, JSON.stringify(e.body)).toBe(200);
      expect(e.body.previousKey.status).toBe("revoked");
      expect(await count(k)).toBe(3);
    });

    it("concurrent creates and rotations never pass the limit", async () => {
      // Race: at most 5 active keys; racer and two fillers hold 3, so 2 slots are left.
      const k = fx.racer.key;
      const creates = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          call("POST", "/api/v1/keys", k, { name: `race-${i}`, scopes: [] }),
        ),
      );
      const statuses = creates.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(2);
      expect(statuses.filter((s) => s === 409)).toHaveLength(8);
      for (const r of creates.filter((x) => x.status === 409)) {
        expect(r.body.code).toBe("KEY_LIMIT_REACHED");
      }
      expect(await count(k)).toBe(5);

      // One slot again; four rotations with a grace period at once: exactly one gets it.
      const [filler, ...others] = fx.raceFill;
      const revoked = await call("DELETE", `/api/v1/keys/${filler!.id}`, k, { reason: "slot" });
      expect(revoked.status).toBe(200);
      const made = creates.filter((r) => r.status === 201).map((r) => r.body.id as string);
      const sources = [...others.map((o) => o.id), ...made];
      expect(sources).toHaveLength(3);
      // Not the calling key itself among them: rotating itself with a grace period gives it an
      // expiry (the grace's end), after which the ceiling rightly refuses it rotating keys that
      // never expire (PRIVILEGE_CEILING, tested above) — an outcome that depends on who wins.
      const rotations = await Promise.all(
        sources.map((id) => call("POST", `/api/v1/keys/${id}/rotate`, k, { gracePeriod: "1h" })),
      );
      const ok = rotations.filter((r) => r.status === 200);
      expect(ok, JSON.stringify(rotations.map((r) => r.body.code ?? r.status))).toHaveLength(1);
      expect(
        rotations.filter((r) => r.body?.code === "KEY_LIMIT_REACHED"),
        JSON.stringify(rotations.map((r) => [r.status, r.body?.code, r.body?.detail])),
      ).toHaveLength(2);
      expect(await count(k)).toBe(5);
    });
  });
});
