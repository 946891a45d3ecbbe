// Dashboard users: password sign-in, sign-up (a user and a first organization in one
// transaction), and OAuth users tied to a local user by verified email.
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import type { Role } from "@/lib/auth/roles";
import type { Db } from "@/lib/db";
import { conflict, notFound } from "@/lib/errors";

import { membershipRepository } from "@/lib/repositories/membership-repository";
import type { Organization } from "@/lib/repositories/organization-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { isUniqueViolation } from "@/lib/repositories/shared";
import { type PublicUser, userRepository } from "@/lib/repositories/user-repository";
import type { Actor } from "./actor";
import { writeAudit } from "./audit";
import { createOrganizationInTx } from "./org-service";

function toPublic(user: PublicUser & { passwordHash?: string | null }): PublicUser {
  const { passwordHash: _omit, ...rest } = user;
  return rest;
}

/** The user when the password matches; null otherwise (same time either way). */
export async function authenticateWithPassword(
  db: Db,
  email: string,
  password: string,
): Promise<PublicUser | null> {
  const user = await userRepository.getByEmail(db, email);
  const ok = await verifyPassword(user?.passwordHash, password);
  return ok && user ? toPublic(user) : null;
}

export async function getUser(db: Db, id: string): Promise<PublicUser | null> {
  return userRepository.getById(db, id);
}

/**
 * The local user for an OAuth sign-in, created when new. `email` must be one the provider says is
 * verified (lib/auth/oauth-email.ts decides). An existing account nobody had verified is claimed:
 * marked verified and its password dropped, since whoever chose that password never proved the
 * mailbox is theirs.
 */
export async function findOrCreateOAuthUser(
  db: Db,
  input: {
    email: string;
    name: string | null;
    image: string | null;
  },
): Promise<PublicUser> {
  const existing = await userRepository.getByEmail(db, input.email);
  if (existing) {
    if (existing.emailVerified) return toPublic(existing);
    await userRepository.claimUnverified(db, existing.id, new Date());
    const claimed = await userRepository.getById(db, existing.id);
    if (claimed) return claimed;
  }
  try {
    return toPublic(
      await userRepository.create(db, {
        email: input.email,
        name: input.name,
        image: input.image,
        emailVerified: new Date(),
      }),
    );
  } catch (e) {
    // Two first sign-ins at once: the other one created it.
    if (isUniqueViolation(e)) {
      const again = await userRepository.getByEmail(db, input.email);
      if (again) return toPublic(again);
    }
    throw e;
  }
}

export interface SignUpInput {
  name: string;
  email: string;
  password: string;
  organizationName: string;
}

/**
 * Creates the user, an organization and the OWNER membership, with audit rows, in one
 * transaction. A taken email is a CONFLICT.
 */
export async function signUp(
  db: Db,
  input: SignUpInput,
  actor: Actor,
): Promise<{ user: PublicUser; organization: Organization }> {
  if (await userRepository.getByEmail(db, input.email)) {
    throw conflict("An account with this email exists.");
  }
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      const user = await userRepository.create(tx, {
        email: input.email,
        name: input.name,
        passwordHash,
      });
      const organization = await createOrganizationInTx(
        tx,
        { name: input.organizationName, email: user.email, ownerUserId: user.id },
        { ...actor, type: "user", id: user.id },
      );
      return { user: toPublic(user), organization };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict("An account with this email exists.");
    throw e;
  }
}

/**
 * Operators (CLI, seed): a user with a password, made a member of the organization `org` (slug)
 * with `role`. A new user is verified (the operator vouches for the address). An existing user
 * (same email) is added to the organization, password unchanged, only when their email is
 * verified: otherwise anyone who signed up with that address first would be let in.
 */
export async function createUserInOrganization(
  db: Db,
  input: { email: string; password: string; org: string; role: Role; name?: string },
  actor: Actor,
) {
  const passwordHash = await hashPassword(input.password);
  return db.$transaction(async (tx) => {
    const organization = await organizationRepository.getBySlug(tx, input.org);
    if (!organization) throw notFound("organization");
    let user = await userRepository.getByEmail(tx, input.email);
    const created = !user;
    if (user && !user.emailVerified) {
      throw conflict(
        `${user.email} has an account whose email is not verified; they must confirm it (or be invited) first.`,
      );
    }
    user ??= await userRepository.create(tx, {
      email: input.email,
      name: input.name ?? null,
      passwordHash,
      emailVerified: new Date(),
    });
    if (await membershipRepository.get(tx, organization.id, user.id)) {
      throw conflict(`${user.email} is already a member of ${organization.slug}.`);
    }
    const membership = await membershipRepository.add(tx, {
      organizationId: organization.id,
      userId: user.id,
      role: input.role,
    });
    await writeAudit(tx, actor, {
      organizationId: organization.id,
      action: "member.added",
      target: { type: "user", id: user.id },
      metadata: { email: user.email, role: input.role, userCreated: created },
    });
    return { user: toPublic(user), membership, organization };
  });
}
