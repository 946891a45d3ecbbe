// What the webhook scheduler and the email alerts read and write: keys due a time-based event
// (bounded batches over the expiresAt index, skipping those whose "send once" mark exists), the
// organizations whose quota it checks (keyset pages), marks, and each member's alert choices.
// Unscoped by organization on purpose where it scans for internal jobs: never answer a caller's
// request with those.
import type { Tx } from "@/lib/db";
import type { EmailAlert } from "@/lib/validation/rules";
import { scopeId, ts } from "./shared";

const DAY_MS = 86_400_000;

export interface DueKey {
  id: string;
  organizationId: string;
  /** "7d" or "1d" for key.expiring; null for key.expired. */
  window: "7d" | "1d" | null;
}

export interface QuotaOrganization {
  id: string;
  monthlyQuota: number;
}

export const webhookScheduleRepository = {
  /**
   * Active, unrotated keys expiring within 7 days whose warning for their current window is not
   * sent yet: inside 1 day the 1d warning, else the 7d one. Soonest first.
   */
  async keysDueExpiringWarning(db: Tx, now: Date, limit: number): Promise<DueKey[]> {
    const oneDay = new Date(now.getTime() + DAY_MS);
    const sevenDays = new Date(now.getTime() + 7 * DAY_MS);
    return db.$queryRaw<DueKey[]>`
      SELECT k.id::text AS id, k."organizationId"::text AS "organizationId",
             CASE WHEN k."expiresAt" <= ${ts(oneDay)} THEN '1d' ELSE '7d' END AS "window"
      FROM "ApiKey" k
      WHERE k."expiresAt" > ${ts(now)} AND k."expiresAt" <= ${ts(sevenDays)}
        AND k.status = 'ACTIVE' AND k."rotatedToId" IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM "WebhookEventMark" m
          WHERE m."dedupeKey" = 'key.expiring:' || k.id::text ||
            CASE WHEN k."expiresAt" <= ${ts(oneDay)} THEN ':1d' ELSE ':7d' END)
      ORDER BY k."expiresAt"
      LIMIT ${limit}`;
  },

  /**
   * Keys past their expiry (not revoked, not rotated) since `since` whose key.expired is not sent
   * yet. `since` bounds the catch-up after downtime (and the first run over old keys).
   */
  async keysDueExpired(db: Tx, now: Date, since: Date, limit: number): Promise<DueKey[]> {
    return db.$queryRaw<DueKey[]>`
      SELECT k.id::text AS id, k."organizationId"::text AS "organizationId", NULL AS "window"
      FROM "ApiKey" k
      WHERE k."expiresAt" <= ${ts(now)} AND k."expiresAt" > ${ts(since)}
        AND k.status <> 'REVOKED' AND k."rotatedToId" IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM "WebhookEventMark" m
          WHERE m."dedupeKey" = 'key.expired:' || k.id::text)
      ORDER BY k."expiresAt"
      LIMIT ${limit}`;
  },

  /** Active organizations with a quota, by id after `afterId` (keyset), `limit` at most. */
  async quotaOrganizations(
    db: Tx,
    afterId: string | null,
    limit: number,
  ): Promise<QuotaOrganization[]> {
    return db.organization.findMany({
      where: {
        isActive: true,
        monthlyQuota: { gt: 0 },
        ...(afterId ? { id: { gt: afterId } } : {}),
      },
      orderBy: { id: "asc" },
      take: limit,
      select: { id: true, monthlyQuota: true },
    });
  },

  /** Which of these "send once" marks exist already. */
  async existingMarks(db: Tx, dedupeKeys: string[]): Promise<Set<string>> {
    if (dedupeKeys.length === 0) return new Set();
    const rows = await db.webhookEventMark.findMany({
      where: { dedupeKey: { in: dedupeKeys } },
      select: { dedupeKey: true },
    });
    return new Set(rows.map((r) => r.dedupeKey));
  },

  /** Gives a mark back (a mail that could not be sent is tried again at the next tick). */
  async releaseMark(db: Tx, organizationId: string, dedupeKey: string): Promise<void> {
    if (!scopeId(organizationId, "organizationId")) return;
    await db.webhookEventMark.deleteMany({ where: { organizationId, dedupeKey } });
  },

  /** The organization's owners and admins who chose to be mailed about `alert`. */
  async alertRecipients(
    db: Tx,
    organizationId: string,
    alert: EmailAlert,
  ): Promise<{ userId: string; email: string; name: string | null }[]> {
    if (!scopeId(organizationId, "organizationId")) return [];
    const rows = await db.membership.findMany({
      where: { organizationId, role: { in: ["OWNER", "ADMIN"] }, emailAlerts: { has: alert } },
      orderBy: { createdAt: "asc" },
      take: 100,
      select: { userId: true, user: { select: { email: true, name: true } } },
    });
    return rows.map((r) => ({ userId: r.userId, email: r.user.email, name: r.user.name }));
  },

  /** One member's alert choices; null when not a member of the organization. */
  async getEmailAlerts(db: Tx, organizationId: string, userId: string): Promise<string[] | null> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(userId, "userId")) return null;
    const m = await db.membership.findUnique({
      where: { organizationId_userId: { organizationId, userId } },
      select: { emailAlerts: true },
    });
    return m ? m.emailAlerts : null;
  },

  /** Replaces one member's alert choices; false when not a member. */
  async setEmailAlerts(
    db: Tx,
    organizationId: string,
    userId: string,
    alerts: EmailAlert[],
  ): Promise<boolean> {
    if (!scopeId(organizationId, "organizationId") || !scopeId(userId, "userId")) return false;
    const r = await db.membership.updateMany({
      where: { organizationId, userId },
      data: { emailAlerts: alerts },
    });
    return r.count === 1;
  },
};
