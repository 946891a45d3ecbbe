import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKeywardError } from "@/lib/errors";
import { generateKey, hashKey } from "@/lib/keys";
import { apiKeyRepository as keys } from "@/lib/repositories/api-key-repository";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { allPages, makeKey, makeOrg, OTHER_UUID } from "./fixtures";

const DAY = 86_400_000;

describe.each(testDbKinds)("apiKeyRepository (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("creates from a hash and never stores a plaintext key", async () => {
    const org = await makeOrg(t.prisma);
    const { key, plaintext, hash } = await makeKey(t.prisma, org.id, {
      name: "Backend",
      scopes: ["keys:read", "usage:write"],
      metadata: { team: "core" },
      createdBy: "user-1",
    });
    expect(key).toMatchObject({
      organizationId: org.id,
      name: "Backend",
      keyHash: hash,
      status: "ACTIVE",
      environment: "LIVE",
      scopes: ["keys:read", "usage:write"],
      metadata: { team: "core" },
      requestCount: 0,
      createdBy: "user-1",
      lastUsedAt: null,
    });
    expect(key.prefix).toBe("pk_live_");
    expect(key.hint).toBe(plaintext.slice(-4));
    const stored = await t.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(JSON.stringify({ ...stored, requestCount: 0 })).not.toContain(plaintext);

    const g = generateKey("test");
    await expect(
      keys.create(t.prisma, {
        organizationId: org.id,
        name: "bad",
        keyHash: g.key,
        prefix: g.prefix,
        hint: g.hint,
        environment: "TEST",
      }),
    ).rejects.toThrow(TypeError);
    await expect(
      keys.create(t.prisma, {
        organizationId: org.id,
        name: "bad",
        keyHash: g.hash.toUpperCase(),
        prefix: g.prefix,
        hint: g.hint,
        environment: "TEST",
      }),
    ).rejects.toThrow(TypeError);
  });

  it("scopes getById by organization: another org's key is null, like a missing one", async () => {
    const a = await makeOrg(t.prisma);
    const b = await makeOrg(t.prisma);
    const { key } = await makeKey(t.prisma, a.id);
    expect((await keys.getById(t.prisma, a.id, key.id))?.id).toBe(key.id);
    expect(await keys.getById(t.prisma, b.id, key.id)).toBeNull();
    expect(await keys.getById(t.prisma, a.id, OTHER_UUID)).toBeNull();
    expect(await keys.getById(t.prisma, a.id, "not-a-uuid")).toBeNull();
    expect((await keys.findById(t.prisma, key.id))?.id).toBe(key.id);
    await expect(keys.getById(t.prisma, undefined as never, key.id)).rejects.toThrow(TypeError);
    // Writes are scoped the same way.
    expect(await keys.update(t.prisma, b.id, key.id, { name: "stolen" })).toBeNull();
    expect(await keys.revoke(t.prisma, b.id, key.id, { reason: "x" })).toBeNull();
    expect((await keys.getById(t.prisma, a.id, key.id))?.status).toBe("ACTIVE");
    expect((await keys.getById(t.prisma, a.id, key.id))?.name).not.toBe("stolen");
  });

  it("finds by hash with the organization; malformed hashes are null without a query", async () => {
    const org = await makeOrg(t.prisma);
    const { key, plaintext } = await makeKey(t.prisma, org.id);
    const found = await keys.getByHash(t.prisma, hashKey(plaintext));
    expect(found?.id).toBe(key.id);
    expect(found?.organization.id).toBe(org.id);
    expect(found?.requestCount).toBe(0);
    expect(await keys.getByHash(t.prisma, hashKey(`${plaintext}x`))).toBeNull();
    expect(await keys.getByHash(t.prisma, plaintext)).toBeNull();
    expect(await keys.getByHash(t.prisma, "")).toBeNull();
  });

  it("lists newest first with filters, search and exact page boundaries", async () => {
    const org = await makeOrg(t.prisma, { plan: "PRO" });
    const other = await makeOrg(t.prisma);
    await makeKey(t.prisma, other.id, { name: "Production other org" });
    const made = [];
    for (const [name, environment] of [
      ["Production API", "LIVE"],
      ["Staging", "TEST"],
      ["production worker", "LIVE"],
      ["CI", "TEST"],
      ["Mobile", "LIVE"],
    ] as const) {
      made.push((await makeKey(t.prisma, org.id, { name, environment })).key);
    }
    await keys.revoke(t.prisma, org.id, made[3].id, { reason: "old" });

    const all = await keys.listByOrganization(t.prisma, org.id);
    expect(all.items).toHaveLength(5);
    expect(all.nextCursor).toBeNull();
    const order = all.items.map((k) => [k.createdAt.getTime(), k.id] as const);
    const sorted = [...order].sort((x, y) => y[0] - x[0] || (x[1] < y[1] ? 1 : -1));
    expect(order).toEqual(sorted);

    const byLimit = async (limit: number) =>
      allPages((cursor) => keys.listByOrganization(t.prisma, org.id, { limit, cursor }));
    expect((await byLimit(2)).pages).toEqual([2, 2, 1]);
    expect((await byLimit(5)).pages).toEqual([5]);
    expect((await byLimit(4)).pages).toEqual([4, 1]);
    expect((await byLimit(1)).items.map((k) => k.id)).toEqual(all.items.map((k) => k.id));

    const live = await keys.listByOrganization(t.prisma, org.id, { environment: "LIVE" });
    expect(live.items.map((k) => k.name).sort()).toEqual(
      ["Mobile", "Production API", "production worker"].sort(),
    );
    const revoked = await keys.listByOrganization(t.prisma, org.id, { status: "REVOKED" });
    expect(revoked.items.map((k) => k.id)).toEqual([made[3].id]);
    const search = await keys.listByOrganization(t.prisma, org.id, { search: "PRODUCTION" });
    expect(search.items.map((k) => k.name).sort()).toEqual(
      ["Production API", "production worker"].sort(),
    );
    const liveActiveTest = await keys.listByOrganization(t.prisma, org.id, {
      environment: "TEST",
      status: "ACTIVE",
    });
    expect(liveActiveTest.items.map((k) => k.name)).toEqual(["Staging"]);
    expect((await keys.listByOrganization(t.prisma, OTHER_UUID)).items).toEqual([]);
  });

  it("pages correctly when many keys share one createdAt (tie broken by id)", async () => {
    const org = await makeOrg(t.prisma, { plan: "PRO" });
    for (let i = 0; i < 7; i++) await makeKey(t.prisma, org.id);
    await t.prisma.apiKey.updateMany({
      where: { organizationId: org.id },
      data: { createdAt: new Date("2026-01-01T00:00:00.000Z") },
    });
    const { items, pages } = await allPages((cursor) =>
      keys.listByOrganization(t.prisma, org.id, { limit: 3, cursor }),
    );
    expect(pages).toEqual([3, 3, 1]);
    expect(new Set(items.map((k) => k.id)).size).toBe(7);
  });

  it("rejects a forged cursor with a BAD_REQUEST error", async () => {
    const org = await makeOrg(t.prisma);
    const err = await keys
      .listByOrganization(t.prisma, org.id, { cursor: "garbage" })
      .catch((e: unknown) => e);
    expect(isKeywardError(err) && err.code).toBe("BAD_REQUEST");
  });

  it("updates name, scopes, expiry, limit and metadata", async () => {
    const org = await makeOrg(t.prisma);
    const { key } = await makeKey(t.prisma, org.id, { metadata: { a: 1 } });
    const expiresAt = new Date(Date.now() + 10 * DAY);
    const up = await keys.update(t.prisma, org.id, key.id, {
      name: "Renamed",
      scopes: ["usage:read"],
      expiresAt,
      rateLimitPerMinute: 5,
      metadata: null,
    });
    expect(up).toMatchObject({
      name: "Renamed",
      scopes: ["usage:read"],
      expiresAt,
      rateLimitPerMinute: 5,
      metadata: null,
    });
    const cleared = await keys.update(t.prisma, org.id, key.id, { expiresAt: null });
    expect(cleared?.expiresAt).toBeNull();
    expect(cleared?.name).toBe("Renamed");
    expect(await keys.update(t.prisma, org.id, OTHER_UUID, { name: "x" })).toBeNull();
  });

  it("revokes with reason, actor and time; a second revoke keeps the first", async () => {
    const org = await makeOrg(t.prisma);
    const { key } = await makeKey(t.prisma, org.id);
    const at = new Date("2026-04-01T12:00:00.000Z");
    const r = await keys.revoke(t.prisma, org.id, key.id, {
      reason: "leaked",
      revokedBy: "user-9",
      revokedAt: at,
    });
    expect(r).toMatchObject({
      status: "REVOKED",
      revokedReason: "leaked",
      revokedBy: "user-9",
      revokedAt: at,
    });
    const again = await keys.revoke(t.prisma, org.id, key.id, { reason: "other" });
    expect(again).toMatchObject({ revokedReason: "leaked", revokedAt: at });
  });

  it("knows expiring-soon and unused keys", async () => {
    const now = new Date("2026-05-10T00:00:00.000Z");
    const org = await makeOrg(t.prisma, { plan: "PRO" });
    const { key: fresh } = await makeKey(t.prisma, org.id);
    const { key: soon } = await makeKey(t.prisma, org.id, {
      expiresAt: new Date(now.getTime() + 3 * DAY),
      environment: "TEST",
    });
    const { key: later } = await makeKey(t.prisma, org.id, {
      expiresAt: new Date(now.getTime() + 30 * DAY),
    });
    const { key: past } = await makeKey(t.prisma, org.id, {
      expiresAt: new Date(now.getTime() - DAY),
    });
    // Created 40 days before `now`; one used 20 days ago, one 2 days ago, one never.
    await t.prisma.apiKey.updateMany({
      where: { organizationId: org.id },
      data: { createdAt: new Date(now.getTime() - 40 * DAY) },
    });
    const usedAt = async (id: string, at: Date) =>
      t.prisma.apiKey.update({ where: { id }, data: { lastUsedAt: at, requestCount: 1n } });
    await usedAt(soon.id, new Date(now.getTime() - 20 * DAY));
    await usedAt(later.id, new Date(now.getTime() - 2 * DAY));

    const expiring = await keys.getExpiringSoon(t.prisma, org.id, 7, { now });
    expect(expiring.items.map((k) => k.id)).toEqual([soon.id]);
    const expiring60 = await keys.getExpiringSoon(t.prisma, org.id, 60, { now });
    expect(expiring60.items.map((k) => k.id).sort()).toEqual([soon.id, later.id].sort());

    const unused = await keys.getUnused(t.prisma, org.id, 10, { now });
    expect(unused.items.map((k) => k.id).sort()).toEqual([fresh.id, soon.id, past.id].sort());
    const unused30 = await keys.getUnused(t.prisma, org.id, 30, { now });
    expect(unused30.items.map((k) => k.id).sort()).toEqual([fresh.id, past.id].sort());
  });

  it("locks a row only with its organization in the same statement", async () => {
    const a = await makeOrg(t.prisma);
    const b = await makeOrg(t.prisma);
    const { key } = await makeKey(t.prisma, a.id);
    const locked = await t.prisma.$transaction(async (tx) => [
      await keys.lockForUpdate(tx, a.id, key.id),
      await keys.lockForUpdate(tx, b.id, key.id),
      await keys.lockForUpdate(tx, a.id, OTHER_UUID),
      await keys.lockForUpdate(tx, a.id, "not-a-uuid"),
    ]);
    expect(locked).toEqual([true, false, false, false]);
  });

  it("filters by effective status without writing", async () => {
    const now = new Date("2026-06-01T00:00:00.000Z");
    const a = await makeOrg(t.prisma);
    const b = await makeOrg(t.prisma);
    const { key: aPast } = await makeKey(t.prisma, a.id, {
      expiresAt: new Date(now.getTime() - 100 * DAY),
    });
    const { key: aLive } = await makeKey(t.prisma, a.id, {
      expiresAt: new Date(now.getTime() + DAY),
    });
    const { key: bPast } = await makeKey(t.prisma, b.id, {
      expiresAt: new Date(now.getTime() - 2 * DAY),
    });
    const { key: revoked } = await makeKey(t.prisma, a.id, {
      expiresAt: new Date(now.getTime() - 100 * DAY),
    });
    await keys.revoke(t.prisma, a.id, revoked.id);

    const ids = async (status: "ACTIVE" | "EXPIRED" | "REVOKED") =>
      (await keys.listByOrganization(t.prisma, a.id, { status, now })).items.map((k) => k.id);
    expect(await ids("EXPIRED")).toEqual([aPast.id]);
    expect(await ids("ACTIVE")).toEqual([aLive.id]);
    expect(await ids("REVOKED")).toEqual([revoked.id]);
    // A read writes nothing: the row still says ACTIVE.
    expect((await keys.getById(t.prisma, a.id, aPast.id))?.status).toBe("ACTIVE");
    expect((await keys.getById(t.prisma, b.id, bPast.id))?.status).toBe("ACTIVE");
  });
});
