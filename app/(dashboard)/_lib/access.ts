// The dashboard's server-side guard: every page, action and route handler under (dashboard)
// starts here. Not in lib/ because it needs next/navigation and the Auth.js session.
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { auth } from "@/auth";
import { clientAddress } from "@/lib/auth/client-address";
import { hasRole, type Role } from "@/lib/auth/roles";
import type { Organization } from "@/lib/repositories/organization-repository";
import { type Actor, userActor } from "@/lib/services/actor";
import { getMembershipBySlug } from "./data";

export interface SessionUser {
  id: string;
  email: string;
  name?: string | null;
}

export interface MemberContext {
  user: SessionUser;
  organization: Organization;
  role: Role;
}

/** The signed-in user, or null. */
export const currentUser = cache(async (): Promise<SessionUser | null> => {
  const session = await auth();
  const user = session?.user;
  if (!user?.id || !user.email) return null;
  return { id: user.id, email: user.email, name: user.name };
});

/** The signed-in user; redirects to sign-in otherwise. */
export async function requireUser(): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect("/login");
  return user;
}

const membership = cache(getMembershipBySlug);

/**
 * For pages: the member's context in the organization `slug`. A non-member (or a member below
 * `minRole`) gets the same not-found page as for an organization that does not exist.
 */
export async function requireMember(
  slug: string,
  minRole: Role = "VIEWER",
): Promise<MemberContext> {
  const user = await requireUser();
  const found = await membership(user.id, slug);
  if (!found || !hasRole(found.role, minRole)) notFound();
  return { user, organization: found.organization, role: found.role };
}

export type SearchParams = Record<string, string | string[] | undefined>;

/** What Next.js gives an organization page: its route params and its search params. */
export interface OrgPageProps<P extends { org: string } = { org: string }> {
  params: Promise<P>;
  searchParams: Promise<SearchParams>;
}

/**
 * For pages with search params: `requireMember` for the page's organization, plus the resolved
 * route params and search params.
 */
export async function requireMemberPage<P extends { org: string }>(
  props: OrgPageProps<P>,
  minRole: Role = "VIEWER",
): Promise<MemberContext & { params: P; searchParams: SearchParams }> {
  const [params, searchParams] = await Promise.all([props.params, props.searchParams]);
  return { ...(await requireMember(params.org, minRole)), params, searchParams };
}

/** A search param's first value (a repeated param yields an array). */
export function firstParam(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export type Denied = { ok: false; message: string };

/**
 * For server actions and route handlers: the context, or a refusal to return as the action's
 * state. Never trusts anything the client sent besides the slug it is checked against.
 */
export async function authorizeMember(
  slug: unknown,
  minRole: Role,
): Promise<{ ok: true; ctx: MemberContext; actor: Actor } | Denied> {
  const user = await currentUser();
  if (!user) return { ok: false, message: "Your session ended. Sign in again." };
  if (typeof slug !== "string" || !slug) return { ok: false, message: "Not found." };
  const found = await membership(user.id, slug);
  if (!found) return { ok: false, message: "Not found." };
  if (!hasRole(found.role, minRole)) {
    return { ok: false, message: "Your role cannot do this. Ask an admin or owner." };
  }
  const ip = clientAddress(await headers());
  return {
    ok: true,
    ctx: { user, organization: found.organization, role: found.role },
    actor: userActor(user.id, ip),
  };
}
