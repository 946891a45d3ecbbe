import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditRepository as audit } from "@/lib/repositories/audit-repository";
import { userRepository } from "@/lib/repositories/user-repository";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { allPages, makeKey, makeOrg, OTHER_UUID, unique } from "./fixtures";

describe.each(testDbKinds)("auditRepository (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("writes entries and lists them by organization, newest first, filtered and paginated", async () => {
    const org = await makeOrg(t.prisma);
    const other = await makeOrg(t.prisma);
    const first = await audit.create(t.prisma, {
      organizationId: org.id,
      actorType: "user",
      actorId: "u1",
      action: "key.created",
      targetType: "api_key",
      targetId: "k1",
      metadata: { name: "Backend", environment: "live" },
      ipAddress: "203.0.113.7",
    });
    expect(first).toMatchObject({
      actorType: "user",
      action: "key.created",
      metadata: { name: "Backend", environment: "live" },
      ipAddress: "203.0.113.7",
    });
    for (const action of ["key.updated", "key.revoked", "key.created", "org.updated"] as const) {
      await audit.create(t.prisma, {
        organizationId: org.id,
        actorType: "system",
        action,
        targetId: action === "org.updated" ? org.id : "k1",
      });
    }
    await audit.create(t.prisma, {
      organizationId: other.id,
      actorType: "cli",
      action: "key.created",
    });

    const all = await allPages((cursor) =>
      audit.listByOrganization(t.prisma, org.id, { limit: 2, cursor }),
    );
    expect(all.pages).toEqual([2, 2, 1]);
    expect(all.items.every((e) => e.organizationId === org.id)).toBe(true);
    expect(all.items.map((e) => e.id)).toContain(first.id);
    const order = all.items.map((e) => [e.createdAt.getTime(), e.id] as const);
    expect(order).toEqual([...order].sort((x, y) => y[0] - x[0] || (x[1] < y[1] ? 1 : -1)));
    const nullMeta = all.items.find((e) => e.action === "org.updated");
    expect(nullMeta?.metadata).toBeNull();

    const created = await audit.listByOrganization(t.prisma, org.id, { action: "key.created" });
    expect(created.items).toHaveLength(2);
    const several = await audit.listByOrganization(t.prisma, org.id, {
      action: ["key.revoked", "org.updated"],
    });
    expect(several.items.map((e) => e.action).sort()).toEqual(["key.revoked", "org.updated"]);
    const byTarget = await audit.listByOrganization(t.prisma, org.id, { targetId: "k1" });
    expect(byTarget.items).toHaveLength(4);
    const byActor = await audit.listByOrganization(t.prisma, org.id, { actorId: "u1" });
    expect(byActor.items.map((e) => e.id)).toEqual([first.id]);
    expect((await audit.listByOrganization(t.prisma, OTHER_UUID)).items).toEqual([]);
  });

  it("is written in the caller's transaction and rolls back with it", async () => {
    const org = await makeOrg(t.prisma);
    await expect(
      t.prisma.$transaction(async (tx) => {
        await audit.create(tx, {
          organizationId: org.id,
          actorType: "user",
          action: "key.created",
        });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect((await audit.listByOrganization(t.prisma, org.id)).items).toEqual([]);
  });

  it("names a page's users and the organization's own keys in one query, nothing else", async () => {
    const org = await makeOrg(t.prisma);
    const other = await makeOrg(t.prisma);
    const email = `${unique("ada")}@example.com`;
    const user = await userRepository.create(t.prisma, { email, name: "Ada" });
    const { key } = await makeKey(t.prisma, org.id, { name: "Backend" });
    const { key: foreign } = await makeKey(t.prisma, other.id, { name: "Theirs" });
    const names = await audit.names(t.prisma, org.id, {
      userIds: [user.id, user.id, "u1", OTHER_UUID],
      keyIds: [key.id, foreign.id, 'k1\'; DROP TABLE "ApiKey"; --'],
    });
    expect([...names.users]).toEqual([[user.id, email.toLowerCase()]]);
    expect([...names.keys]).toEqual([
      [key.id, { name: "Backend", prefix: key.prefix, hint: key.hint }],
    ]);
    const none = await audit.names(t.prisma, org.id, { userIds: [], keyIds: [] });
    expect(none.users.size + none.keys.size).toBe(0);
  });
});
