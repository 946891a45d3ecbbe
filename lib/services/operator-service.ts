// What operators do from the command line that the dashboard does not: create
// an organization without a signed-in owner, add a user with a password to an
// organization. Each change writes its audit row in the same transaction.
import { hashPassword } from "@/lib/auth/password";
import type { Db } from "@/lib/db";
import { conflict, KeywardError } from "@/lib/errors";
import type { Plan } from "@/lib/plans";
import { auditRepository } from "@/lib/repositories/audit-repository";
import { membershipRepository } from "@/lib/repositories/membership-repository";
import {
  type Organization,
  organizationRepository,
} from "@/lib/repositories/organization-repository";
import { isUniqueViolation } from "@/lib/repositories/shared";
import { type PublicUser, userRepository } from "@/lib/repositories/user-repository";
import type { Actor } from "./actor";
import { RESERVED_SLUGS } from "./org-service";

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

export async function getOrganizationBySlug(db: Db, slug: string): Promise<Organization> {
  const org = await organizationRepository.getBySlug(db, slug);
  if (!org) throw new KeywardError("NOT_FOUND", `organization "${slug}" does not exist`);
  return org;
}

export async function getOrganizationBySlugOrNull(
  db: Db,
  slug: string,
): Promise<Organization | null> {
  return organizationRepository.getBySlug(db, slug);
}

export async function countOrganizations(db: Db): Promise<number> {
  return organizationRepository.count(db);
}

export async function createOrganizationForOperator(
  db: Db,
  input: { name: string; email: string; plan?: Plan; slug?: string },
  actor: Actor,
): Promise<Organization> {
  if (input.slug !== undefined && (!SLUG.test(input.slug) || RESERVED_SLUGS.has(input.slug))) {
    throw new KeywardError(
      "VALIDATION_FAILED",
      `slug "${input.slug}" is not allowed: use lowercase letters, digits and dashes, not a reserved word`,
    );
  }
  try {
    return await db.$transaction(async (tx) => {
      if (await organizationRepository.getByEmail(tx, input.email)) {
        throw conflict(`an organization with email ${input.email} exists already`);
      }
      if (input.slug && (await organizationRepository.getBySlug(tx, input.slug))) {
        throw conflict(`an organization with slug "${input.slug}" exists already`);
      }
      const org = await organizationRepository.create(tx, {
        name: input.name,
        email: input.email,
        plan: input.plan,
        // A name that slugifies to a reserved word gets a suffix.
        slug:
          input.slug ??
          (RESERVED_SLUGS.has(input.name.toLowerCase())
            ? `${input.name.toLowerCase()}-org`
            : undefined),
      });
      await auditRepository.create(tx, {
        organizationId: org.id,
        actorType: actor.type,
        actorId: actor.id ?? null,
        action: "org.created",
        targetType: "organization",
        targetId: org.id,
        metadata: { name: org.name, slug: org.slug, plan: org.plan },
        ipAddress: actor.ip ?? null,
      });
      return org;
    });
  } catch (e) {
    if (isUniqueViolation(e))
      throw conflict("an organization with this slug or email exists already");
    throw e;
  }
}

/** Creates the user (or takes the existing one with this email) and makes them a member. */
export async function createUserInOrganization(
  db: Db,
  input: {
    email: string;
    password: string;
    org: string;
    role: "OWNER" | "ADMIN" | "VIEWER";
    name?: string;
  },
  actor: Actor,
): Promise<{ user: PublicUser; membership: { role: string } }> {
  const org = await getOrganizationBySlug(db, input.org);
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      const existing = await userRepository.getByEmail(tx, input.email);
      if (existing && (await membershipRepository.get(tx, org.id, existing.id))) {
        throw conflict(`${input.email} is a member of "${org.slug}" already`);
      }
      if (existing) {
        throw conflict(
          `a user with email ${input.email} exists already; add them from the dashboard's settings`,
        );
      }
      const user = await userRepository.create(tx, {
        email: input.email,
        name: input.name ?? null,
        passwordHash,
      });
      const membership = await membershipRepository.add(tx, {
        organizationId: org.id,
        userId: user.id,
        role: input.role,
      });
      await auditRepository.create(tx, {
        organizationId: org.id,
        actorType: actor.type,
        actorId: actor.id ?? null,
        action: "member.added",
        targetType: "user",
        targetId: user.id,
        metadata: { email: user.email, role: input.role },
        ipAddress: actor.ip ?? null,
      });
      const { passwordHash: _omit, ...publicUser } = user;
      return { user: publicUser, membership: { role: membership.role } };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`a user with email ${input.email} exists already`);
    throw e;
  }
}
