import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  organizationRepository as orgs,
  slugify,
} from "@/lib/repositories/organization-repository";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { makeKey, makeOrg, OTHER_UUID, unique } from "./fixtures";

describe("slugify", () => {
  it.each([
    ["Acme Corp.", "acme-corp"],
    ["  Ünïcödé   Ltd ", "unicode-ltd"],
    ["!!!", "org"],
    ["a".repeat(60), "a".repeat(48)],
    ["ACME__inc--2", "acme-inc-2"],
  ])("%j -> %j", (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });
});

describe.each(testDbKinds)("organizationRepository (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("creates with the plan's defaults and a slug derived from the name", async () => {
    const free = await orgs.create(t.prisma, { name: "Acme Corp", email: "Team@Acme.test " });
    expect(free).toMatchObject({
      slug: "acme-corp",
      email: "team@acme.test",
      plan: "FREE",
      rateLimitPerMinute: 60,
      monthlyQuota: 10_000,
      maxActiveKeys: 5,
      usageRetentionDays: 30,
      isActive: true,
    });
    const pro = await orgs.create(t.prisma, {
      name: "Acme Corp",
      email: "b@acme.test",
      plan: "PRO",
    });
    expect(pro).toMatchObject({
      slug: "acme-corp-2",
      rateLimitPerMinute: 1_000,
      maxActiveKeys: 50,
    });
    const ent = await orgs.create(t.prisma, {
      name: "Acme Corp",
      email: "c@acme.test",
      plan: "ENTERPRISE",
      maxActiveKeys: 7,
    });
    expect(ent).toMatchObject({
      slug: "acme-corp-3",
      monthlyQuota: 100_000_000,
      maxActiveKeys: 7,
      usageRetentionDays: 365,
    });
    // "acme-corporate" starts with "acme-corp" but is not one of its numbered slugs.
    const other = await orgs.create(t.prisma, { name: "Acme Corporate", email: "d@acme.test" });
    expect(other.slug).toBe("acme-corporate");
  });

  it("uses a given slug as is and refuses a taken one", async () => {
    const slug = unique("given");
    const org = await orgs.create(t.prisma, { name: "X", slug, email: `${slug}@x.test` });
    expect(org.slug).toBe(slug);
    await expect(
      orgs.create(t.prisma, { name: "Y", slug, email: `${slug}-2@x.test` }),
    ).rejects.toMatchObject({ code: "P2002" });
  });

  it("finds by id, slug and email (case-insensitive); unknown ids are null", async () => {
    const org = await makeOrg(t.prisma);
    expect((await orgs.getById(t.prisma, org.id))?.id).toBe(org.id);
    expect((await orgs.getBySlug(t.prisma, org.slug))?.id).toBe(org.id);
    expect((await orgs.getByEmail(t.prisma, org.email.toUpperCase()))?.id).toBe(org.id);
    expect(await orgs.getById(t.prisma, OTHER_UUID)).toBeNull();
    expect(await orgs.getById(t.prisma, "not-a-uuid")).toBeNull();
    expect(await orgs.getBySlug(t.prisma, "no-such-slug")).toBeNull();
    expect(await orgs.getByEmail(t.prisma, "nobody@nowhere.test")).toBeNull();
  });

  it("throws for a missing id instead of dropping the filter", async () => {
    await expect(orgs.getById(t.prisma, undefined as never)).rejects.toThrow(TypeError);
    await expect(orgs.getApiKeyCount(t.prisma, "" as never)).rejects.toThrow(TypeError);
  });

  it("updates; a plan change resets limits not given", async () => {
    const org = await makeOrg(t.prisma);
    const up = await orgs.update(t.prisma, org.id, { plan: "PRO", maxActiveKeys: 3, name: "N" });
    expect(up).toMatchObject({
      name: "N",
      plan: "PRO",
      maxActiveKeys: 3,
      rateLimitPerMinute: 1_000,
      monthlyQuota: 1_000_000,
      usageRetentionDays: 90,
    });
    const same = await orgs.update(t.prisma, org.id, { monthlyQuota: 5 });
    expect(same).toMatchObject({ plan: "PRO", monthlyQuota: 5, rateLimitPerMinute: 1_000 });
    expect(await orgs.update(t.prisma, OTHER_UUID, { name: "z" })).toBeNull();
  });

  it("counts all organizations, or the active or inactive ones", async () => {
    const db = t.prisma;
    const before = {
      all: await orgs.count(db),
      active: await orgs.count(db, { isActive: true }),
      inactive: await orgs.count(db, { isActive: false }),
    };
    const created = [];
    for (let i = 0; i < 3; i++) created.push(await makeOrg(db));
    await orgs.update(db, created[1].id, { isActive: false });
    expect((await orgs.getById(db, created[1].id))?.isActive).toBe(false);
    expect(await orgs.count(db)).toBe(before.all + 3);
    expect(await orgs.count(db, { isActive: true })).toBe(before.active + 2);
    expect(await orgs.count(db, { isActive: false })).toBe(before.inactive + 1);
  });

  it("counts only active, unexpired keys", async () => {
    const org = await makeOrg(t.prisma); // FREE: 5 keys
    const now = new Date();
    for (let i = 0; i < 4; i++) await makeKey(t.prisma, org.id);
    const { key: expired } = await makeKey(t.prisma, org.id, {
      expiresAt: new Date(now.getTime() - 1_000),
    });
    expect(expired.status).toBe("ACTIVE");
    expect(await orgs.getApiKeyCount(t.prisma, org.id)).toBe(4);
    const { key: fifth } = await makeKey(t.prisma, org.id);
    expect(await orgs.getApiKeyCount(t.prisma, org.id)).toBe(5);
    const { apiKeyRepository } = await import("@/lib/repositories/api-key-repository");
    await apiKeyRepository.revoke(t.prisma, org.id, fifth.id, { reason: "test" });
    expect(await orgs.getApiKeyCount(t.prisma, org.id)).toBe(4);
    expect(await orgs.getApiKeyCount(t.prisma, OTHER_UUID)).toBe(0);
  });

  it("locks its row inside a transaction; an unknown id locks nothing", async () => {
    const org = await orgs.create(t.prisma, {
      name: unique("Lock"),
      email: `${unique("l")}@x.test`,
    });
    const locked = await t.prisma.$transaction(async (tx) => [
      await orgs.lockForUpdate(tx, org.id),
      await orgs.lockForUpdate(tx, OTHER_UUID),
      await orgs.lockForUpdate(tx, "not-a-uuid"),
    ]);
    expect(locked).toEqual([true, false, false]);
  });

  it("works inside a transaction", async () => {
    const name = unique("Tx Org");
    await expect(
      t.prisma.$transaction(async (tx) => {
        await orgs.create(tx, { name, email: `${unique("tx")}@x.test` });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await orgs.getBySlug(t.prisma, slugify(name))).toBeNull();
  });
});
