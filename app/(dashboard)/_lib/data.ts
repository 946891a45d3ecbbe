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
import * as leaks from "@/lib/services/leaks/leak-policy";
import * as orgs from "@/lib/services/org-service";
import * as users from "@/lib/services/user-service";
import * as alerts from "@/lib/services/webhooks/alerts";
import * as webhooks from "@/lib/services/webhooks/endpoints";
import { WEBHOOK_ENDPOINTS_MAX } from "@/lib/validation/rules";

export { AUDIT_ACTIONS } from "@/lib/services/dashboard-audit";
export type {
  DailyStat,
  EndpointStat,
  RangeStats,
  TopConsumer,
} from "@/lib/services/dashboard-usage";
export type { KeyView } from "@/lib/services/keys";
export type { WebhookDeliveryView, WebhookView } from "@/lib/services/webhooks/endpoints";

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
export const setOrganizationSpendLimit = withDb(orgs.setOrganizationSpendLimit);
export const setKeyPolicy = withDb(orgs.setKeyPolicy);
export const changeMemberRole = withDb(orgs.changeMemberRole);
export const removeMember = withDb(orgs.removeMember);
export const setLeakPolicy = withDb(leaks.setLeakPolicy);

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
export const getEmailAlerts = withDb(alerts.getEmailAlerts);
export const setEmailAlerts = withDb(alerts.setEmailAlerts);

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
export const monthToDateSpend = withDb(keys.monthToDateSpend);
export const updateKey = withDb(keys.updateKey);
export const revokeKey = withDb(keys.revokeKey);
export const rotateKey = withDb(keys.rotateKey);

// Usage and the audit log
export const getUsageOverview = withDb(usage.getUsageOverview);
export const getKeyUsage = withDb(usage.getKeyUsage);
export const getMonthToDateRequests = withDb(usage.getMonthToDateRequests);
export const listAuditPage = withDb(listAuditEntries);

// Webhooks
export const WEBHOOK_DELIVERIES_PAGE_SIZE = 25;

/** Every endpoint of the organization (there are at most WEBHOOK_ENDPOINTS_MAX). */
export const listWebhooks = async (organizationId: string) =>
  (await webhooks.listWebhooks(await getDb(), organizationId, { limit: WEBHOOK_ENDPOINTS_MAX }))
    .items;

/** The organization's endpoint, or null (another organization's endpoint is null too). */
export async function findWebhook(organizationId: string, id: string) {
  try {
    return await webhooks.getWebhook(await getDb(), organizationId, id);
  } catch (e) {
    if ((e as { code?: string }).code === "NOT_FOUND") return null;
    throw e;
  }
}

export const listWebhookDeliveries = async (
  organizationId: string,
  endpointId: string,
  cursor: string | undefined,
) =>
  webhooks.listWebhookDeliveries(await getDb(), organizationId, endpointId, {
    cursor,
    limit: WEBHOOK_DELIVERIES_PAGE_SIZE,
  });

export const createWebhook = withDb(webhooks.createWebhook);
export const updateWebhook = withDb(webhooks.updateWebhook);
export const deleteWebhook = withDb(webhooks.deleteWebhook);
export const rotateWebhookSecret = withDb(webhooks.rotateWebhookSecret);
export const resendWebhookDelivery = withDb(webhooks.resendWebhookDelivery);
export const sendWebhookTestEvent = withDb(webhooks.sendWebhookTestEvent);
