import type { Tx } from "@/lib/db";
import type { Membership, Organization, Role } from "@/lib/db/generated/client";
import {
  afterCursor,
  newestFirst,
  type Page,
  type PageOptions,
  pageSize,
  scopeId,
  toPage,
} from "./shared";
import { type PublicUser, publicUserSelect } from "./user-repository";

export type { Membership, Role };

export interface OrganizationOfUser {
  organization: Organization;
  role: Role;
  joinedAt: Date;
}

export interface MemberOfOrganization {
  user: PublicUser;
  role: Role;
  joinedAt: Date;
}

const empty = <T>(): Page<T> => ({ items: [], nextCursor: null });

function scoped(organizationId: string, userId: string): boolean {
  return scopeId(organizationId, "organizationId") && scopeId(userId, "userId");
}

export const membershipRepository = {
  async add(
    db: Tx,
    input: { organizationId: string; userId: string; role?: Role },
  ): Promise<Membership> {
    scopeId(input.organizationId, "organizationId");
    scopeId(input.userId, "userId");
    return db.membership.create({
      data: {
        organizationId: input.organizationId,
        userId: input.userId,
        role: input.role ?? "VIEWER",
      },
    });
  },

  async get(db: Tx, organizationId: string, userId: string): Promise<Membership | null> {
    if (!scoped(organizationId, userId)) return null;
    return db.membership.findUnique({
      where: { organizationId_userId: { organizationId, userId } },
    });
  },

  /** The user's role in the organization; null when not a member. */
  async getRole(db: Tx, organizationId: string, userId: string): Promise<Role | null> {
    return (await membershipRepository.get(db, organizationId, userId))?.role ?? null;
  },

  /** The organizations a user belongs to, newest membership first. */
  async listOrganizationsOfUser(
    db: Tx,
    userId: string,
    options: PageOptions = {},
  ): Promise<Page<OrganizationOfUser>> {
    if (!scopeId(userId, "userId")) return empty();
    const size = pageSize(options.limit);
    const rows = await db.membership.findMany({
      where: { userId, ...afterCursor(options.cursor) },
      include: { organization: true },
      orderBy: newestFirst,
      take: size + 1,
    });
    return toPage(rows, size, (m) => ({
      organization: m.organization,
      role: m.role,
      joinedAt: m.createdAt,
    }));
  },

  /** An organization's members (without password hashes), newest first. */
  async listMembers(
    db: Tx,
    organizationId: string,
    options: PageOptions & { role?: Role } = {},
  ): Promise<Page<MemberOfOrganization>> {
    if (!scopeId(organizationId, "organizationId")) return empty();
    const size = pageSize(options.limit);
    const rows = await db.membership.findMany({
      where: {
        organizationId,
        ...(options.role ? { role: options.role } : {}),
        ...afterCursor(options.cursor),
      },
      include: { user: { select: publicUserSelect } },
      orderBy: newestFirst,
      take: size + 1,
    });
    return toPage(rows, size, (m) => ({ user: m.user, role: m.role, joinedAt: m.createdAt }));
  },

  /** Null when the user is not a member. Keeping one owner is the service's rule. */
  async changeRole(
    db: Tx,
    organizationId: string,
    userId: string,
    role: Role,
  ): Promise<Membership | null> {
    if (!scoped(organizationId, userId)) return null;
    const { count } = await db.membership.updateMany({
      where: { organizationId, userId },
      data: { role },
    });
    return count ? membershipRepository.get(db, organizationId, userId) : null;
  },

  async remove(db: Tx, organizationId: string, userId: string): Promise<boolean> {
    if (!scoped(organizationId, userId)) return false;
    const { count } = await db.membership.deleteMany({ where: { organizationId, userId } });
    return count > 0;
  },

  async countOwners(db: Tx, organizationId: string): Promise<number> {
    if (!scopeId(organizationId, "organizationId")) return 0;
    return db.membership.count({ where: { organizationId, role: "OWNER" } });
  },
};
