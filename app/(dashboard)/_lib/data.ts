// The one door from app/ to the database (next-learn's app/lib/data.ts habit): pages, layouts,
// server actions and route handlers of the dashboard and the sign-in pages call these, never
// getDb() or a repository. Each is a service function with the process's database bound; the
// services do the work, check their input and write the audit rows.
import "server-only";
import { type Db, getDb } from "@/lib/db";
import { listAuditEntries } from "@/lib/services/dashboard-audit";
import * as usage from "@/lib/services/dashboard-usage";
import * as verification from "@/lib/services/email-verification-service";
import * as invitations from "@/lib/services/invitation-service";
import * as keys from "@/lib/services/keys";
import * as orgs from "@/lib/services/org-service";
import * as users from "@/lib/services/user-service";

export { AUDIT_ACTIONS } from "@/lib/services/dashboard-audit";
export type {
  DailyStat,
  EndpointStat,
  RangeStats,
  TopConsumer,
} from "@/lib/services/dashboard-usage";
export type { KeyView } from "@/lib/services/keys";

/** `fn` with the process's database as its first argument. */
function withDb<A extends unknown[], R>(fn: (db: Db, ...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => fn(await getDb(), ...args);
}

// People and organizations
export const getMembershipBySlug = withDb(orgs.getMembershipBySlug);
export const listOrganizationsOfUser = withDb(orgs.listOrganizationsOfUser);
export const listMembers = withDb(orgs.listMembers);
export const getUser = withDb(users.getUser);
export const signUp = withDb(users.signUp);
export const createOrganization = withDb(orgs.createOrganization);
export const renameOrganization = withDb(orgs.renameOrganization);
export const setKeyPolicy = withDb(orgs.setKeyPolicy);
export const changeMemberRole = withDb(orgs.changeMemberRole);
export const removeMember = withDb(orgs.removeMember);

// Invitations and email confirmation
export const listPendingInvitations = withDb(invitations.listPendingInvitations);
export const getInvitationByToken = withDb(invitations.getInvitationByToken);
export const createInvitation = withDb(invitations.createInvitation);
export const resendInvitation = withDb(invitations.resendInvitation);
export const revokeInvitation = withDb(invitations.revokeInvitation);
export const acceptInvitation = withDb(invitations.acceptInvitation);
export const declineInvitation = withDb(invitations.declineInvitation);
export const checkEmailVerification = withDb(verification.checkEmailVerification);
export const confirmEmailVerification = withDb(verification.confirmEmailVerification);
export const sendEmailVerification = withDb(verification.sendEmailVerification);

// Keys
export const KEYS_PAGE_SIZE = 20;

export type KeyFilters = Pick<
  keys.ListKeysOptions,
  "environment" | "status" | "search" | "cursor" | "externalId" | "attention" | "attentionDays"
>;

export const listKeys = async (organizationId: string, filters: KeyFilters) =>
  keys.listKeys(await getDb(), organizationId, { ...filters, limit: KEYS_PAGE_SIZE });

/** The organization's key, or null (another organization's key is null too). */
export async function findKey(organizationId: string, keyId: string) {
  try {
    return await keys.getKey(await getDb(), organizationId, keyId);
  } catch (e) {
    if ((e as { code?: string }).code === "NOT_FOUND") return null;
    throw e;
  }
}

export const createKey = withDb(keys.createKey);
export const updateKey = withDb(keys.updateKey);
export const revokeKey = withDb(keys.revokeKey);
export const rotateKey = withDb(keys.rotateKey);

// Usage and the audit log
export const getUsageOverview = withDb(usage.getUsageOverview);
export const getKeyUsage = withDb(usage.getKeyUsage);
export const getMonthToDateRequests = withDb(usage.getMonthToDateRequests);
export const listAuditPage = withDb(listAuditEntries);
