// The webhook scheduler: the time-based events (key.expiring 7 days and 1 day before, key.expired,
// quota.threshold at 50/80/100 % of the month's quota) and their alert mails. Each tick looks for
// what is due and has no "send once" mark yet, so a tick after downtime catches up on what it
// missed, and a restart or a second instance never sends one twice (the mark is claimed in the
// transaction that writes the event). Every query is a bounded batch; one key's or one
// organization's failure is logged and the tick goes on with the others.
import { config } from "@/lib/config";
import { type Db, getDb } from "@/lib/db";
import { onShutdown } from "@/lib/lifecycle";
import type { MailSender } from "@/lib/mail";
import { publicUrl } from "@/lib/mail";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import {
  type DueKey,
  type QuotaOrganization,
  webhookScheduleRepository,
} from "@/lib/repositories/webhook-schedule-repository";
import { QUOTA_THRESHOLDS, type QuotaThreshold } from "@/lib/validation/rules";
import { toKeyView } from "../keys/shared";
import { requestsThisMonth } from "../requests-this-month";
import { type AlertMail, sendAlertMail } from "./alerts";
import { emitWebhookEvent } from "./emit";

const DAY_MS = 86_400_000;

/** Requests the organization spent this month (default: the quota counter, requestsThisMonth). */
export type UsageReader = (db: Db, organization: QuotaOrganization, now: Date) => Promise<number>;

export interface SchedulerOptions {
  db?: () => Promise<Db>;
  now?: () => Date;
  intervalMs?: number;
  /** Rows per query (keys due, organizations). */
  batchSize?: number;
  /** Batches of due keys per kind per tick; the rest waits for the next tick. */
  maxBatches?: number;
  /** Organizations whose quota one tick checks; the next tick goes on from there. */
  organizationsPerTick?: number;
  /** How far back a tick catches up on key.expired (downtime, and the first run over old keys). */
  expiredLookbackMs?: number;
  usage?: UsageReader;
  mail?: MailSender;
  log?: (line: string) => void;
}

export interface TickReport {
  expiring: number;
  expired: number;
  quota: number;
  mails: number;
  failures: number;
}

export interface WebhookScheduler {
  /** One pass; resolves when its events are written and its mails handed over. */
  tick(): Promise<TickReport>;
  start(): void;
  stop(): Promise<void>;
}

const monthLabel = (d: Date) => d.toISOString().slice(0, 7);

export function createWebhookScheduler(options: SchedulerOptions = {}): WebhookScheduler {
  const openDb = options.db ?? getDb;
  const now = options.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 100;
  const maxBatches = options.maxBatches ?? 10;
  const orgsPerTick = options.organizationsPerTick ?? 500;
  const lookback = options.expiredLookbackMs ?? 30 * DAY_MS;
  const usage: UsageReader = options.usage ?? ((db, org, at) => requestsThisMonth(db, org, at));
  const log = options.log ?? ((line: string) => console.error(line));
  // Where the quota pass goes on at the next tick (keyset over organization ids).
  let orgCursor: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let first: NodeJS.Timeout | undefined;
  let running: Promise<TickReport> | undefined;

  function failed(report: TickReport, what: string, e: unknown) {
    report.failures++;
    const first = String((e as Error)?.message ?? e).split("\n")[0];
    log(`keyward: webhook scheduler: ${what} failed: ${first.slice(0, 200)}`);
  }

  async function keyEvent(
    db: Db,
    due: DueKey,
    at: Date,
    mails: Promise<number>[],
  ): Promise<boolean> {
    const done = await db.$transaction(async (tx) => {
      const key = await apiKeyRepository.getById(tx, due.organizationId, due.id);
      const org = await organizationRepository.getById(tx, due.organizationId);
      if (!key?.expiresAt || !org) return null;
      const view = toKeyView(key, at);
      const expiresAt = key.expiresAt.toISOString();
      const id = due.window
        ? await emitWebhookEvent(
            tx,
            org.id,
            "key.expiring",
            { key: view, expiresAt, window: due.window },
            `key.expiring:${key.id}:${due.window}`,
          )
        : await emitWebhookEvent(
            tx,
            org.id,
            "key.expired",
            { key: view, expiredAt: expiresAt },
            `key.expired:${key.id}`,
          );
      return id ? { key, org } : null;
    });
    if (!done) return false;
    const { key, org } = done;
    const label = `"${key.name}" (${key.prefix}…${key.hint}) in ${org.name}`;
    const when = key.expiresAt?.toISOString().replace("T", " ").slice(0, 16);
    mails.push(
      sendAlertMail(
        db,
        due.window
          ? {
              organizationId: org.id,
              alert: "key.expiring",
              occasion: `key.expiring:${key.id}:${due.window}`,
              subject: `Keyward: the key ${key.name} expires ${due.window === "1d" ? "within a day" : "in 7 days"}`,
              text: `The API key ${label} expires at ${when} UTC. Rotate it or give it a new expiry before then.`,
              link: publicUrl(`/${org.slug}/keys/${key.id}`),
            }
          : {
              organizationId: org.id,
              alert: "key.expired",
              occasion: `key.expired:${key.id}`,
              subject: `Keyward: the key ${key.name} expired`,
              text: `The API key ${label} expired at ${when} UTC; requests with it are refused.`,
              link: publicUrl(`/${org.slug}/keys/${key.id}`),
            },
        { sender: options.mail, log },
      ),
    );
    return true;
  }

  async function keyEvents(
    db: Db,
    at: Date,
    report: TickReport,
    mails: Promise<number>[],
  ): Promise<void> {
    const kinds = [
      {
        field: "expiring" as const,
        read: () => webhookScheduleRepository.keysDueExpiringWarning(db, at, batchSize),
      },
      {
        field: "expired" as const,
        read: () =>
          webhookScheduleRepository.keysDueExpired(
            db,
            at,
            new Date(at.getTime() - lookback),
            batchSize,
          ),
      },
    ];
    for (const kind of kinds) {
      for (let b = 0; b < maxBatches; b++) {
        let due: DueKey[];
        try {
          due = await kind.read();
        } catch (e) {
          failed(report, `reading keys due ${kind.field}`, e);
          break;
        }
        let batchFailed = false;
        for (const k of due) {
          try {
            if (await keyEvent(db, k, at, mails)) report[kind.field]++;
          } catch (e) {
            batchFailed = true;
            failed(report, `key.${kind.field} for key ${k.id}`, e);
          }
        }
        // A key that keeps failing would come back first in every batch: go on next tick.
        if (due.length < batchSize || batchFailed) break;
      }
    }
  }

  async function quotaEvent(
    db: Db,
    org: QuotaOrganization,
    month: string,
    pending: QuotaThreshold[],
    at: Date,
    mails: Promise<number>[],
  ): Promise<number> {
    const used = await usage(db, org, at);
    const crossed = pending.filter((t) => used * 100 >= t * org.monthlyQuota);
    if (crossed.length === 0) return 0;
    const sent: QuotaThreshold[] = [];
    const details = await db.$transaction(async (tx) => {
      for (const threshold of crossed) {
        const id = await emitWebhookEvent(
          tx,
          org.id,
          "quota.threshold",
          { organizationId: org.id, month, threshold, used, limit: org.monthlyQuota },
          `quota.threshold:${org.id}:${month}:${threshold}`,
        );
        if (id) sent.push(threshold);
      }
      return sent.length ? organizationRepository.getById(tx, org.id) : null;
    });
    if (details) {
      for (const threshold of sent) {
        const mail: AlertMail = {
          organizationId: org.id,
          alert: `quota.${threshold}`,
          occasion: `quota.threshold:${org.id}:${month}:${threshold}`,
          subject: `Keyward: ${details.name} used ${threshold} % of its monthly quota`,
          text:
            `${details.name} made ${used.toLocaleString("en-US")} of its ${org.monthlyQuota.toLocaleString("en-US")} ` +
            `requests for ${month} (${threshold} %).` +
            (threshold === 100 ? " Requests past the quota are refused until the month ends." : ""),
          link: publicUrl(`/${details.slug}/usage`),
        };
        mails.push(sendAlertMail(db, mail, { sender: options.mail, log }));
      }
    }
    return sent.length;
  }

  async function quotaEvents(
    db: Db,
    at: Date,
    report: TickReport,
    mails: Promise<number>[],
  ): Promise<void> {
    const month = monthLabel(at);
    let seen = 0;
    while (seen < orgsPerTick) {
      const want = Math.min(batchSize, orgsPerTick - seen);
      let orgs: QuotaOrganization[];
      try {
        orgs = await webhookScheduleRepository.quotaOrganizations(db, orgCursor, want);
      } catch (e) {
        failed(report, "reading organizations", e);
        return;
      }
      seen += orgs.length;
      orgCursor = orgs.length ? orgs[orgs.length - 1].id : null;
      const markOf = (org: QuotaOrganization, t: QuotaThreshold) =>
        `quota.threshold:${org.id}:${month}:${t}`;
      let marks: Set<string>;
      try {
        marks = await webhookScheduleRepository.existingMarks(
          db,
          orgs.flatMap((o) => QUOTA_THRESHOLDS.map((t) => markOf(o, t))),
        );
      } catch (e) {
        failed(report, "reading quota marks", e);
        return;
      }
      for (const org of orgs) {
        // An organization past all its thresholds this month costs no usage query.
        const pending = QUOTA_THRESHOLDS.filter((t) => !marks.has(markOf(org, t)));
        if (pending.length === 0) continue;
        try {
          report.quota += await quotaEvent(db, org, month, pending, at, mails);
        } catch (e) {
          failed(report, `quota.threshold for organization ${org.id}`, e);
        }
      }
      // The end of the list: the next tick starts from the first organization again.
      if (orgs.length < want) {
        orgCursor = null;
        return;
      }
    }
  }

  async function runTick(): Promise<TickReport> {
    const report: TickReport = { expiring: 0, expired: 0, quota: 0, mails: 0, failures: 0 };
    const at = now();
    const mails: Promise<number>[] = [];
    let db: Db;
    try {
      db = await openDb();
    } catch (e) {
      failed(report, "opening the database", e);
      return report;
    }
    await keyEvents(db, at, report, mails);
    await quotaEvents(db, at, report, mails);
    // Mails go out beside the events, never in their way; the tick ends when they are handed over.
    for (const n of await Promise.all(mails)) report.mails += n;
    return report;
  }

  const scheduler: WebhookScheduler = {
    tick() {
      // One pass at a time per instance: a slow tick is not overlapped by the next.
      running ??= runTick().finally(() => {
        running = undefined;
      });
      return running;
    },
    start() {
      if (timer) return;
      const intervalMs = options.intervalMs ?? config().KEYWARD_WEBHOOK_SCHEDULER_INTERVAL_MS;
      const run = () => {
        scheduler.tick().catch((e) => log(`keyward: webhook scheduler: ${String(e)}`));
      };
      timer = setInterval(run, intervalMs);
      timer.unref();
      // The first pass soon after start: catching up after downtime need not wait a full interval.
      first = setTimeout(run, Math.min(intervalMs, 5_000));
      first.unref();
    },
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
  return scheduler;
}

const KEY = Symbol.for("keyward.webhook-scheduler");

/** The process's scheduler, started once (server start); stopped at shutdown before the
 *  database closes. */
export function startWebhookScheduler(options: SchedulerOptions = {}): WebhookScheduler {
  const g = globalThis as unknown as Record<symbol, WebhookScheduler | undefined>;
  if (g[KEY]) return g[KEY];
  const scheduler = createWebhookScheduler(options);
  g[KEY] = scheduler;
  scheduler.start();
  onShutdown(
    "webhook-scheduler",
    async () => {
      await scheduler.stop();
      g[KEY] = undefined;
    },
    20,
  );
  return scheduler;
}
