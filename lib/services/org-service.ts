// Organizations and their members, for the dashboard: create (with an OWNER), rename, re-role
// and remove members (people join by invitation: invitation-service.ts). Every change writes its audit row in the same transaction.
// Rules: ADMIN and OWNER change things; only an OWNER grants, changes or removes OWNER; an
// organization never loses its last OWNER.
import { hasRole, type Role } from "@/lib/auth/roles";
import type { Db, Tx } from "@/lib/db";
import type { Plan } from "@/lib/db/generated/client";
import { conflict, forbidden, KeywardError, notFound, validationFailed } from "@/lib/errors";
import {
  type MemberOfOrganization,
  membershipRepository,
  type OrganizationOfUser,
} from "@/lib/repositories/membership-repository";
import {
  type Organization,
  organizationRepository,
  slugify,
} from "@/lib/repositories/organization-repository";
import { isUniqueViolation, money } from "@/lib/repositories/shared";
import { isOrganizationSlug, ORGANIZATION_SLUG_RE } from "@/lib/validation/accounts";
import { toFieldIssues } from "@/lib/validation/issues";
import { KeyPolicySchema, SpendLimitUsdSchema } from "@/lib/validation/keys";
import type { Actor } from "./actor";
import { type AuditAction, type AuditEntry, writeAudit } from "./audit";
import type { KeyPolicy } from "./keys/policy";

/** Slugs that are routes of the app, never an organization's. */
export const RESERVED_SLUGS = new Set([
  "api",
  "auth",
  "dashboard",
  "docs",
  "login",
  "logout",
  "signup",
  "signin",
  "organizations",
  "settings",
  "new",
  "_next",
  "static",
  "public",
  "health",
  "metrics",
]);

/** The organization's audit row, through the one writer. */
function audit(
  tx: Tx,
  organizationId: string,
  actor: Actor,
  action: AuditAction,
  target: AuditEntry["target"],
  metadata?: Record<string, unknown>,
) {
  return writeAudit(tx, actor, { organizationId, action, target, metadata });
}

async function freeSlug(tx: Tx, name: string): Promise<string | undefined> {
  const base = slugify(name);
  if (!RESERVED_SLUGS.has(base)) return undefined; // the repository makes it unique
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? `${base}-org` : `${base}-org-${n}`;
    if (!(await organizationRepository.getBySlug(tx, candidate))) return candidate;
  }
}

/** Creates an organization with `ownerUserId` as OWNER, inside the caller's transaction. */
export interface CreateOrganizationInput {
  name: string;
  email: string;
  /** Becomes OWNER; operators (CLI) may create an organization without one. */
  ownerUserId?: string;
  plan?: Plan;
  /** Used as given (must be free and not reserved); derived from the name otherwise. */
  slug?: string;
}

export async function createOrganizationInTx(
  tx: Tx,
  input: CreateOrganizationInput,
  actor: Actor,
): Promise<Organization> {
  if (await organizationRepository.getByEmail(tx, input.email)) {
    throw new KeywardError("CONFLICT", "Another organization uses this email.", {
      issues: [{ path: "email", message: "Another organization uses this email." }],
    });
  }
  if (input.slug !== undefined) {
    if (!ORGANIZATION_SLUG_RE.test(input.slug) || RESERVED_SLUGS.has(input.slug)) {
      throw new KeywardError("VALIDATION_FAILED", "The slug is not usable.", {
        issues: [
          { path: "slug", message: "Lowercase letters, digits and dashes; not a reserved word." },
        ],
      });
    }
    if (await organizationRepository.getBySlug(tx, input.slug)) {
      throw new KeywardError("CONFLICT", "Another organization uses this slug.", {
        issues: [{ path: "slug", message: "Another organization uses this slug." }],
      });
    }
  }
  const organization = await organizationRepository.create(tx, {
    name: input.name,
    email: input.email,
    plan: input.plan,
    slug: input.slug ?? (await freeSlug(tx, input.name)),
  });
  await audit(
    tx,
    organization.id,
    actor,
    "org.created",
    {
      type: "organization",
      id: organization.id,
    },
    { name: organization.name, slug: organization.slug, plan: organization.plan },
  );
  if (!input.ownerUserId) return organization;
  await membershipRepository.add(tx, {
    organizationId: organization.id,
    userId: input.ownerUserId,
    role: "OWNER",
  });
  await audit(
    tx,
    organization.id,
    actor,
    "member.added",
    {
      type: "user",
      id: input.ownerUserId,
    },
    { role: "OWNER" },
  );
  return organization;
}

export async function createOrganization(
  db: Db,
  input: CreateOrganizationInput,
  actor: Actor,
): Promise<Organization> {
  try {
    return await db.$transaction((tx) => createOrganizationInTx(tx, input, actor));
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict("Another organization uses this email or name.");
    throw e;
  }
}

/** The organization with this slug and the user's role in it; null when not a member. */
export async function getMembershipBySlug(
  db: Db,
  userId: string,
  slug: string,
): Promise<{ organization: Organization; role: Role } | null> {
  if (!isOrganizationSlug(slug)) return null;
  const organization = await organizationRepository.getBySlug(db, slug);
  if (!organization) return null;
  const role = await membershipRepository.getRole(db, organization.id, userId);
  return role ? { organization, role } : null;
}

export async function listOrganizationsOfUser(
  db: Db,
  userId: string,
): Promise<OrganizationOfUser[]> {
  const page = await membershipRepository.listOrganizationsOfUser(db, userId, {
    limit: 200,
  });
  return page.items;
}

export async function listMembers(db: Db, organizationId: string): Promise<MemberOfOrganization[]> {
  const page = await membershipRepository.listMembers(db, organizationId, {
    limit: 200,
  });
  return page.items;
}

function requireManager(role: Role) {
  if (!hasRole(role, "ADMIN")) throw forbidden("Only admins and owners can change this.");
}

export async function renameOrganization(
  db: Db,
  organizationId: string,
  name: string,
  actor: Actor,
  actorRole: Role,
): Promise<Organization> {
  requireManager(actorRole);
  return db.$transaction(async (tx) => {
    const before = await organizationRepository.getById(tx, organizationId);
    if (!before) throw notFound("organization");
    const after = await organizationRepository.update(tx, organizationId, { name });
    if (!after) throw notFound("organization");
    await audit(
      tx,
      organizationId,
      actor,
      "org.updated",
      {
        type: "organization",
        id: organizationId,
      },
      { name: { from: before.name, to: name } },
    );
    return after;
  });
}

/**
 * Sets the organization's monthly spend cap (USD, decimal string; null: none). Owners only: it
 * can stop every key of the organization. Verify sees it within a second (the key cache's life).
 */
export async function setOrganizationSpendLimit(
  db: Db,
  organizationId: string,
  spendLimitUsd: string | null,
  actor: Actor,
  actorRole: Role,
): Promise<Organization> {
  if (!hasRole(actorRole, "OWNER")) throw forbidden("Only owners can set the spend limit.");
  const parsed = SpendLimitUsdSchema.safeParse(spendLimitUsd);
  if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error, "spendLimitUsd"));
  const to = parsed.data === null ? null : money(parsed.data);
  return db.$transaction(async (tx) => {
    const before = await organizationRepository.getById(tx, organizationId);
    if (!before) throw notFound("organization");
    const after = await organizationRepository.update(tx, organizationId, { spendLimitUsd: to });
    if (!after) throw notFound("organization");
    const from = before.spendLimitUsd === null ? null : money(before.spendLimitUsd);
    await audit(
      tx,
      organizationId,
      actor,
      "org.updated",
      { type: "organization", id: organizationId },
      { spendLimitUsd: { from, to } },
    );
    return after;
  });
}

/** Sets the organization's key policy (owners only); new keys and rotations are held to it. */
export async function setKeyPolicy(
  db: Db,
  organizationId: string,
  input: KeyPolicy,
  actor: Actor,
  actorRole: Role,
): Promise<Organization> {
  if (actorRole !== "OWNER") throw forbidden("Only owners can change the key policy.");
  const parsed = KeyPolicySchema.safeParse(input);
  if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error));
  const policy = parsed.data;
  return db.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId);
    const before = await organizationRepository.getById(tx, organizationId);
    if (!before) throw notFound("organization");
    const after = await organizationRepository.update(tx, organizationId, policy);
    if (!after) throw notFound("organization");
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const field of Object.keys(policy) as (keyof KeyPolicy)[]) {
      if (before[field] !== policy[field])
        changes[field] = { from: before[field], to: policy[field] };
    }
    await audit(
      tx,
      organizationId,
      actor,
      "org.updated",
      {
        type: "organization",
        id: organizationId,
      },
      { keyPolicy: changes },
    );
    return after;
  });
}

// Taking the organization row's lock serializes member changes of one organization, so two
// owners demoting each other at once cannot leave none.
async function lockOrganization(tx: Tx, organizationId: string): Promise<void> {
  if (!(await organizationRepository.lockForUpdate(tx, organizationId))) {
    throw notFound("organization");
  }
}

/** The member, with the organization locked (see above); NOT_FOUND when there is none. */
async function lockedMember(tx: Tx, organizationId: string, userId: string) {
  await lockOrganization(tx, organizationId);
  const current = await membershipRepository.get(tx, organizationId, userId);
  if (!current) throw notFound("member");
  return current;
}

/** A manager's change to one member, in one transaction with the organization locked. */
async function changeMember(
  db: Db,
  organizationId: string,
  userId: string,
  actorRole: Role,
  change: (tx: Tx, current: Awaited<ReturnType<typeof lockedMember>>) => Promise<void>,
): Promise<void> {
  requireManager(actorRole);
  await db.$transaction(async (tx) => change(tx, await lockedMember(tx, organizationId, userId)));
}

/** Refuses to take the owner role from the organization's last owner. */
async function keepAnOwner(tx: Tx, organizationId: string, role: Role): Promise<void> {
  if (role === "OWNER" && (await membershipRepository.countOwners(tx, organizationId)) <= 1) {
    throw conflict("An organization needs at least one owner. Make someone else owner first.");
  }
}

export async function changeMemberRole(
  db: Db,
  organizationId: string,
  userId: string,
  role: Role,
  actor: Actor,
  actorRole: Role,
): Promise<void> {
  await changeMember(db, organizationId, userId, actorRole, async (tx, current) => {
    if (current.role === role) return;
    if ((current.role === "OWNER" || role === "OWNER") && actorRole !== "OWNER") {
      throw forbidden("Only an owner can grant or change the owner role.");
    }
    await keepAnOwner(tx, organizationId, current.role);
    await membershipRepository.changeRole(tx, organizationId, userId, role);
    await audit(
      tx,
      organizationId,
      actor,
      "member.role_changed",
      { type: "user", id: userId },
      {
        from: current.role,
        to: role,
      },
    );
  });
}

export async function removeMember(
  db: Db,
  organizationId: string,
  userId: string,
  actor: Actor,
  actorRole: Role,
): Promise<void> {
  await changeMember(db, organizationId, userId, actorRole, async (tx, current) => {
    if (current.role === "OWNER" && actorRole !== "OWNER") {
      throw forbidden("Only an owner can remove an owner.");
    }
    await keepAnOwner(tx, organizationId, current.role);
    await membershipRepository.remove(tx, organizationId, userId);
    await audit(
      tx,
      organizationId,
      actor,
      "member.removed",
      { type: "user", id: userId },
      {
        role: current.role,
      },
    );
  });
}

export async function getOrganizationBySlugOrNull(
  db: Db,
  slug: string,
): Promise<Organization | null> {
  if (!isOrganizationSlug(slug)) return null;
  return organizationRepository.getBySlug(db, slug);
}

/** The organization, or NOT_FOUND. */
export async function getOrganizationBySlug(db: Db, slug: string): Promise<Organization> {
  const org = isOrganizationSlug(slug) ? await organizationRepository.getBySlug(db, slug) : null;
  if (!org) throw notFound("organization");
  return org;
}

export async function countOrganizations(db: Db): Promise<number> {
  return organizationRepository.count(db);
}
