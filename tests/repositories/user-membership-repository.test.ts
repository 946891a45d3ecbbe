import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { membershipRepository as members } from "@/lib/repositories/membership-repository";
import { userRepository as users } from "@/lib/repositories/user-repository";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { allPages, makeOrg, OTHER_UUID, unique } from "./fixtures";

describe.each(testDbKinds)("user and membership repositories (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const makeUser = (name = "Ann") =>
    users.create(t.prisma, {
      email: `${unique(name)}@Example.com`,
      name,
      passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    });

  it("creates a user with the given hash, untouched; email is case-insensitive", async () => {
    const u = await makeUser();
    expect(u.passwordHash).toBe("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
    expect(u.email).toBe(u.email.toLowerCase());
    const byEmail = await users.getByEmail(t.prisma, u.email.toUpperCase());
    expect(byEmail?.passwordHash).toBe(u.passwordHash);
    const byId = await users.getById(t.prisma, u.id);
    expect(byId?.email).toBe(u.email);
    expect(byId && "passwordHash" in byId).toBe(false);
    expect(await users.getById(t.prisma, OTHER_UUID)).toBeNull();
    expect(await users.getByEmail(t.prisma, "nobody@example.com")).toBeNull();
    await expect(users.create(t.prisma, { email: u.email.toUpperCase() })).rejects.toMatchObject({
      code: "P2002",
    });
  });

  it("adds members, reads roles, changes and removes them, counts owners", async () => {
    const org = await makeOrg(t.prisma);
    const other = await makeOrg(t.prisma);
    const owner = await makeUser("owner");
    const admin = await makeUser("admin");
    const viewer = await makeUser("viewer");
    await members.add(t.prisma, { organizationId: org.id, userId: owner.id, role: "OWNER" });
    await members.add(t.prisma, { organizationId: org.id, userId: admin.id, role: "ADMIN" });
    const v = await members.add(t.prisma, { organizationId: org.id, userId: viewer.id });
    expect(v.role).toBe("VIEWER");
    await expect(
      members.add(t.prisma, { organizationId: org.id, userId: viewer.id, role: "ADMIN" }),
    ).rejects.toMatchObject({ code: "P2002" });

    expect(await members.getRole(t.prisma, org.id, owner.id)).toBe("OWNER");
    expect(await members.getRole(t.prisma, other.id, owner.id)).toBeNull();
    expect(await members.getRole(t.prisma, org.id, OTHER_UUID)).toBeNull();
    expect(await members.countOwners(t.prisma, org.id)).toBe(1);

    expect((await members.changeRole(t.prisma, org.id, admin.id, "OWNER"))?.role).toBe("OWNER");
    expect(await members.countOwners(t.prisma, org.id)).toBe(2);
    expect(await members.changeRole(t.prisma, other.id, admin.id, "VIEWER")).toBeNull();

    const listed = await allPages((cursor) =>
      members.listMembers(t.prisma, org.id, { limit: 2, cursor }),
    );
    expect(listed.pages).toEqual([2, 1]);
    expect(listed.items.map((m) => m.user.id).sort()).toEqual(
      [owner.id, admin.id, viewer.id].sort(),
    );
    expect(listed.items.every((m) => !("passwordHash" in m.user))).toBe(true);
    const owners = await members.listMembers(t.prisma, org.id, { role: "OWNER" });
    expect(owners.items).toHaveLength(2);
    expect((await members.listMembers(t.prisma, other.id)).items).toEqual([]);

    expect(await members.remove(t.prisma, other.id, viewer.id)).toBe(false);
    expect(await members.remove(t.prisma, org.id, viewer.id)).toBe(true);
    expect(await members.getRole(t.prisma, org.id, viewer.id)).toBeNull();
    expect(await members.remove(t.prisma, org.id, viewer.id)).toBe(false);
  });

  it("lists a user's organizations with roles, paginated", async () => {
    const u = await makeUser("multi");
    const orgs = [];
    for (let i = 0; i < 3; i++) {
      const org = await makeOrg(t.prisma);
      orgs.push(org);
      await members.add(t.prisma, {
        organizationId: org.id,
        userId: u.id,
        role: i === 0 ? "OWNER" : "VIEWER",
      });
    }
    const all = await allPages((cursor) =>
      members.listOrganizationsOfUser(t.prisma, u.id, { limit: 2, cursor }),
    );
    expect(all.pages).toEqual([2, 1]);
    const roles = Object.fromEntries(all.items.map((m) => [m.organization.id, m.role]));
    expect(roles).toEqual({
      [orgs[0].id]: "OWNER",
      [orgs[1].id]: "VIEWER",
      [orgs[2].id]: "VIEWER",
    });
    expect((await members.listOrganizationsOfUser(t.prisma, OTHER_UUID)).items).toEqual([]);
  });

  it("refuses missing ids rather than querying without them", async () => {
    await expect(members.getRole(t.prisma, undefined as never, OTHER_UUID)).rejects.toThrow(
      TypeError,
    );
    await expect(members.listMembers(t.prisma, "" as never)).rejects.toThrow(TypeError);
  });
});
