// Alert emails (PRODUCT.md section 10): the organization's owners and admins who opted in, per
// alert, in their settings. Each recipient gets one mail per occasion (mark
// `alert:<userId>:<occasion>`); a mail that fails gives its mark back, and never fails the
// webhook event or the other recipients.
import type { Db } from "@/lib/db";
import { forbidden, notFound } from "@/lib/errors";
import { deliverMail, type MailSender } from "@/lib/mail";
import { webhookRepository } from "@/lib/repositories/webhook-repository";
import { webhookScheduleRepository } from "@/lib/repositories/webhook-schedule-repository";
import { EMAIL_ALERTS, type EmailAlert } from "@/lib/validation/rules";

export interface AlertMail {
  organizationId: string;
  alert: EmailAlert;
  /** Names the occasion once (e.g. the event's dedupe key): one mail per recipient for it. */
  occasion: string;
  subject: string;
  text: string;
  link?: string;
}

export interface AlertMailOptions {
  sender?: MailSender;
  log?: (line: string) => void;
}

/** Mails the opted-in owners and admins; resolves to how many mails went out. Never throws. */
export async function sendAlertMail(
  db: Db,
  mail: AlertMail,
  options: AlertMailOptions = {},
): Promise<number> {
  const log = options.log ?? console.error;
  let sent = 0;
  try {
    const recipients = await webhookScheduleRepository.alertRecipients(
      db,
      mail.organizationId,
      mail.alert,
    );
    for (const r of recipients) {
      const mark = `alert:${r.userId}:${mail.occasion}`;
      if (!(await webhookRepository.claimMark(db, mail.organizationId, mark))) continue;
      const ok = await deliverMail(
        { to: r.email, subject: mail.subject, text: mail.text, link: mail.link },
        { sender: options.sender, log },
      );
      if (ok) sent++;
      else await webhookScheduleRepository.releaseMark(db, mail.organizationId, mark);
    }
  } catch (e) {
    log(`keyward: alert mail "${mail.alert}" failed: ${(e as Error).message}`);
  }
  return sent;
}

const ALERT_MANAGERS = new Set(["OWNER", "ADMIN"]);

/** The alerts a member chose. Owners and admins only (viewers are mailed nothing). */
export async function getEmailAlerts(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<EmailAlert[]> {
  const alerts = await webhookScheduleRepository.getEmailAlerts(db, organizationId, userId);
  if (!alerts) throw notFound("organization");
  return alerts.filter((a): a is EmailAlert => (EMAIL_ALERTS as readonly string[]).includes(a));
}

/** Replaces the alerts a member (owner or admin, of this organization) is mailed about. */
export async function setEmailAlerts(
  db: Db,
  member: { organizationId: string; userId: string; role: string },
  alerts: EmailAlert[],
): Promise<EmailAlert[]> {
  if (!ALERT_MANAGERS.has(member.role)) {
    throw forbidden("Only owners and admins receive alert emails.");
  }
  const chosen = EMAIL_ALERTS.filter((a) => alerts.includes(a));
  const ok = await webhookScheduleRepository.setEmailAlerts(
    db,
    member.organizationId,
    member.userId,
    chosen,
  );
  if (!ok) throw notFound("organization");
  return chosen;
}
