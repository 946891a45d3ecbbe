// What a leak report of a key does (PRODUCT.md section 12), whoever reported it: the public
// report (POST /api/v1/keys/leaked) and GitHub secret scanning both end here. The first report
// of a key records where it was seen, applies its organization's policy (REVOKE: revoked with
// reason "reported leaked"; NOTIFY: flagged only), writes `key.leaked` to the audit log and the
// webhook outbox in the same transaction, then mails the organization's owners and admins.
// A key already reported changes nothing: replays and repeated reports are no-ops.
import type { Db } from "@/lib/db";
import { hashKey, hasValidChecksum, isValidKeyFormat, verifyKey } from "@/lib/keys";
import { onShutdown } from "@/lib/lifecycle";
import { deliverMail, publicUrl } from "@/lib/mail";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { membershipRepository } from "@/lib/repositories/membership-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { LEAK_REVOKE_REASON } from "@/lib/validation/rules";
import type { Actor } from "../actor";
import { writeAudit } from "../audit";
import { getKeyCache } from "../key-cache";
import { revokeKeyInTransaction } from "../keys/revoke";
import { legacyKeysMayExist } from "../verify/legacy-keys";
import { enqueueWebhookEvent } from "../webhooks/enqueue";

export interface LeakReport {
  key: string;
  source?: string | null;
  url?: string | null;
}

/**
 * `unknown`: not a key of any organization; `reported`: the key was already reported (nothing
 * done); `revoked` / `flagged`: this report applied the organization's policy.
 */
export type LeakOutcome = "unknown" | "reported" | "revoked" | "flagged";

interface Notice {
  organizationId: string;
  orgName: string;
  orgSlug: string;
  keyId: string;
  keyName: string;
  label: string;
  outcome: "revoked" | "flagged";
  source: string | null;
  url: string | null;
}

/** The organization's key for `key`, or null: the checksum first, then the lookup by hash. */
async function findKey(db: Db, key: string) {
  if (!hasValidChecksum(key) && !(isValidKeyFormat(key) && (await legacyKeysMayExist(db)))) {
    return null;
  }
  const row = await apiKeyRepository.getByHash(db, hashKey(key));
  return row && verifyKey(key, row.keyHash) ? row : null;
}

export async function applyLeakReport(
  db: Db,
  report: LeakReport,
  actor: Actor,
): Promise<LeakOutcome> {
  const row = await findKey(db, report.key);
  if (!row) return "unknown";
  const organizationId = row.organizationId;
  const source = report.source?.trim() || null;
  const url = report.url?.trim() || null;
  const result = await db.$transaction(async (tx) => {
    await apiKeyRepository.lockForUpdate(tx, organizationId, row.id);
    const at = new Date();
    if (!(await apiKeyRepository.markLeaked(tx, organizationId, row.id, { at, source, url }))) {
      return null;
    }
    const org = await organizationRepository.getById(tx, organizationId);
    if (!org) return null;
    let revokedHash: string | null = null;
    if (org.leakAction === "REVOKE" && row.status !== "REVOKED") {
      ({ hash: revokedHash } = await revokeKeyInTransaction(
        tx,
        organizationId,
        row.id,
        { reason: LEAK_REVOKE_REASON },
        actor,
      ));
    }
    const outcome: Notice["outcome"] = org.leakAction === "REVOKE" ? "revoked" : "flagged";
    const label = `${row.prefix}…${row.hint}`;
    await writeAudit(tx, actor, {
      organizationId,
      action: "key.leaked",
      target: { type: "api_key", id: row.id },
      metadata: { source, url, outcome, prefix: row.prefix, hint: row.hint },
    });
    await enqueueWebhookEvent(tx, {
      organizationId,
      type: "key.leaked",
      dedupeKey: `key.leaked:${row.id}`,
      data: {
        key: {
          id: row.id,
          name: row.name,
          prefix: row.prefix,
          hint: row.hint,
          environment: row.environment === "TEST" ? "test" : "live",
        },
        reportedAt: at.toISOString(),
        source,
        url,
        action: outcome,
      },
    });
    const notice: Notice = {
      organizationId,
      orgName: org.name,
      orgSlug: org.slug,
      keyId: row.id,
      keyName: row.name,
      label,
      outcome,
      source,
      url,
    };
    return { notice, revokedHash };
  });
  if (!result) return "reported";
  if (result.revokedHash) getKeyCache().invalidate(result.revokedHash);
  track(mailAdmins(db, result.notice));
  return result.notice.outcome;
}

// Work after the answer: mail (a report's timing must not depend on the organization's mail),
// and the public reports themselves (queueLeakReport).
// Kept on globalThis (Next bundles each route apart): one set, drained by one shutdown hook.
const WORK = Symbol.for("keyward.leakWork");
const holder = globalThis as unknown as Record<symbol, Set<Promise<unknown>> | undefined>;
holder[WORK] ??= new Set();
const inFlight = holder[WORK];

function track(p: Promise<unknown>): void {
  if (inFlight.size === 0) onShutdown("leak-reports", settleLeakReports, 40);
  inFlight.add(p);
  void p.finally(() => inFlight.delete(p));
}

/** Public reports waiting or running at once, at most; past it a report is dropped and logged. */
const MAX_QUEUED_REPORTS = 1000;

/**
 * The public report: applied after the answer, so the answer (always the same 202) takes the
 * same time whether or not the key exists; no lookup, transaction or mail runs before it. The
 * per-address rate limit in front of it bounds what one client can queue.
 */
export function queueLeakReport(db: Db, report: LeakReport, actor: Actor): boolean {
  if (inFlight.size >= MAX_QUEUED_REPORTS) {
    console.error("keyward: leak report dropped: too many reports queued");
    return false;
  }
  track(
    new Promise((resolve) => setImmediate(resolve))
      .then(() => applyLeakReport(db, report, actor))
      .catch((e) => console.error(`keyward: leak report failed: ${(e as Error)?.name}`)),
  );
  return true;
}

/** Waits for queued reports and their mail (shutdown, tests). */
export async function settleLeakReports(): Promise<void> {
  while (inFlight.size) await Promise.allSettled([...inFlight]);
}

async function mailAdmins(db: Db, n: Notice): Promise<void> {
  const recipients = new Set<string>();
  for (const role of ["OWNER", "ADMIN"] as const) {
    const page = await membershipRepository.listMembers(db, n.organizationId, { role, limit: 100 });
    for (const m of page.items) recipients.add(m.user.email);
  }
  const link = publicUrl(`/${n.orgSlug}/keys/${n.keyId}`);
  const did =
    n.outcome === "revoked"
      ? `It was revoked at once (reason: "${LEAK_REVOKE_REASON}"), as your organization's leak policy says. Create or rotate a key to replace it, and update what used it.`
      : "Your organization's leak policy is to flag and notify only: the key still works. Rotate or revoke it now.";
  const text = [
    `The API key "${n.keyName}" (${n.label}) of ${n.orgName} was reported leaked.`,
    n.source ? `Where: ${n.source}` : null,
    n.url ? `Seen at: ${n.url}` : null,
    "",
    did,
    "",
    `The key: ${link}`,
  ]
    .filter((l) => l !== null)
    .join("\n");
  for (const to of recipients) {
    await deliverMail({ to, subject: `Keyward: key ${n.label} was reported leaked`, text, link });
  }
}
