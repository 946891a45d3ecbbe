// The webhook delivery loop: sends what enqueueWebhookEvent wrote to the outbox.
//
// Each round claims due PENDING deliveries in one short statement (FOR UPDATE SKIP LOCKED, so
// several instances on one PostgreSQL never take the same row) and stamps them with a lease
// (lockedUntil); the POST happens outside any transaction; then one transaction logs the
// WebhookAttempt and moves the delivery on, only if the lease is still ours. A process that dies
// mid-send leaves its lease to run out, and the delivery is tried again: at least once, and
// receivers drop repeats by `webhook-id`.
//
// Retries: exponential backoff with full jitter, floored (see retryDelayMs), for 24 hours after
// the delivery was created; then FAILED. Concurrency: `concurrency` attempts at once in this
// process, at most `perEndpoint` of them to one endpoint, so a slow or failing endpoint (one
// tenant's) cannot hold every slot. An endpoint failing for 3 days (no success since its first
// failure) is disabled (disabledReason "failing") and its organization's owners and admins are
// mailed; a disabled endpoint's deliveries wait, unsent.

import { config } from "@/lib/config";
import type { Db } from "@/lib/db";
import { onShutdown } from "@/lib/lifecycle";
import { deliverMail, type MailSender, publicUrl } from "@/lib/mail";
import { countWebhookDelivery } from "@/lib/metrics/registry";
import {
  type ClaimedDelivery,
  webhookDeliveryRepository as repo,
} from "@/lib/repositories/webhook-repository";
import { openSecret } from "@/lib/webhooks/secrets";
import { type Connect, type SendResult, sendWebhook } from "@/lib/webhooks/send";
import { signWebhook } from "@/lib/webhooks/sign";
import type { Resolver } from "@/lib/webhooks/url-policy";

export interface RetrySchedule {
  /** The first retry's ceiling; each further one doubles it (default 10 s). */
  baseMs: number;
  /** No retry waits longer (default 1 h). */
  maxMs: number;
  /** Nor shorter (default 1 s): full jitter alone could retry at once. */
  minMs: number;
  /** Retries stop this long after the delivery was created; it is then FAILED (default 24 h). */
  windowMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  baseMs: 10_000,
  maxMs: 3_600_000,
  minMs: 1_000,
  windowMs: 24 * 3_600_000,
};

const DAY_MS = 24 * 3_600_000;

/** The wait before the next try after `failures` failed attempts (1, 2, ...): full jitter. */
export function retryDelayMs(
  failures: number,
  schedule: RetrySchedule,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(schedule.maxMs, schedule.baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.max(schedule.minMs, Math.floor(random() * ceiling));
}

type SendRow = Awaited<ReturnType<typeof repo.loadForSend>>[number];

export interface DeliveryLoopOptions {
  db: Db;
  /** Attempts in flight at once (default KEYWARD_WEBHOOK_CONCURRENCY, 10). */
  concurrency?: number;
  /** Attempts in flight to one endpoint (default half the concurrency, at least 1). */
  perEndpoint?: number;
  /** How often an idle loop looks for due deliveries (default KEYWARD_WEBHOOK_POLL_MS, 1 s). */
  pollMs?: number;
  /** How long a claim holds a delivery (default: 6 timeouts, at least 2 minutes): after a
   *  crash, its deliveries are retried once this has passed. */
  leaseMs?: number;
  /** One attempt (default KEYWARD_WEBHOOK_TIMEOUT_MS, 10 s). */
  timeoutMs?: number;
  retry?: Partial<RetrySchedule>;
  /** An endpoint failing this long is disabled (default 3 days). */
  disableAfterMs?: number;
  resolve?: Resolver;
  connect?: Connect;
  allowPrivate?: boolean;
  mail?: MailSender;
  log?: (line: string) => void;
  now?: () => Date;
}

export interface DeliveryLoop {
  start(): void;
  /** Look for work now (after an enqueue in this process). */
  wake(): void;
  /** Stops claiming; waits up to `graceMs` for attempts in flight, then gives up waiting
   *  (their leases run out and another round retries them). */
  stop(graceMs?: number): Promise<void>;
  /** Attempts in flight. */
  readonly inFlight: number;
}

export function createDeliveryLoop(options: DeliveryLoopOptions): DeliveryLoop {
  const c = config();
  const db = options.db;
  const concurrency = options.concurrency ?? c.KEYWARD_WEBHOOK_CONCURRENCY;
  const perEndpoint = options.perEndpoint ?? Math.max(1, Math.ceil(concurrency / 2));
  const pollMs = options.pollMs ?? c.KEYWARD_WEBHOOK_POLL_MS;
  const timeoutMs = options.timeoutMs ?? c.KEYWARD_WEBHOOK_TIMEOUT_MS;
  const leaseMs = options.leaseMs ?? Math.max(120_000, timeoutMs * 6);
  const retry = { ...DEFAULT_RETRY_SCHEDULE, ...options.retry };
  const disableAfterMs = options.disableAfterMs ?? 3 * DAY_MS;
  const log = options.log ?? ((line: string) => console.error(line));
  const now = options.now ?? (() => new Date());

  const inFlight = new Set<Promise<void>>();
  const perEndpointInFlight = new Map<string, number>();
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<void> | null = null;
  let again = false;

  const schedule = (ms: number) => {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(kick, ms);
    timer.unref();
  };

  function kick() {
    timer = null;
    if (!running) return;
    if (round) {
      again = true;
      return;
    }
    round = claimRound()
      .catch((e) => {
        log(`keyward: webhook delivery: claiming failed: ${(e as Error).message}`);
        return false;
      })
      .then((full) => {
        round = null;
        if (again || full) {
          again = false;
          schedule(0);
        } else {
          schedule(pollMs);
        }
      });
  }

  /** One claim; true when it filled every free slot (there may be more due at once). */
  async function claimRound(): Promise<boolean> {
    const free = concurrency - inFlight.size;
    if (free <= 0) return false;
    const at = now();
    const claimed = await repo.claimDue(db, {
      now: at,
      leaseUntil: new Date(at.getTime() + leaseMs),
      limit: free,
      perEndpoint,
      busy: perEndpointInFlight,
    });
    const rows = new Map((await repo.loadForSend(db, claimed)).map((r) => [r.id, r]));
    for (const d of claimed) {
      const busy = perEndpointInFlight.get(d.endpointId) ?? 0;
      const row = rows.get(d.id);
      if (!running || busy >= perEndpoint || !row?.endpoint.enabled) {
        await repo.release(db, d);
        continue;
      }
      perEndpointInFlight.set(d.endpointId, busy + 1);
      const p: Promise<void> = attempt(d, row)
        .catch((e) => log(`keyward: webhook delivery ${d.id}: ${(e as Error).message}`))
        .finally(() => {
          inFlight.delete(p);
          const n = (perEndpointInFlight.get(d.endpointId) ?? 1) - 1;
          if (n <= 0) perEndpointInFlight.delete(d.endpointId);
          else perEndpointInFlight.set(d.endpointId, n);
          // Slots freed: claim again now (a quarter of them at least, so claims stay batched).
          if (!running || concurrency - inFlight.size < Math.max(1, concurrency >> 2)) return;
          if (round) again = true;
          else schedule(0);
        });
      inFlight.add(p);
    }
    return claimed.length >= free;
  }

  async function attempt(d: ClaimedDelivery, row: SendRow): Promise<void> {
    const at = now();
    let result: SendResult;
    try {
      const secrets = [openSecret(row.endpoint.secretSealed)];
      if (
        row.endpoint.previousSecretSealed &&
        row.endpoint.previousSecretExpiresAt &&
        row.endpoint.previousSecretExpiresAt > at
      ) {
        secrets.push(openSecret(row.endpoint.previousSecretSealed));
      }
      const request = signWebhook(
        {
          eventId: row.event.id,
          type: row.event.type,
          createdAt: row.event.createdAt,
          data: row.event.payload,
        },
        secrets,
        at,
      );
      result = await sendWebhook(row.endpoint.url, request, {
        resolve: options.resolve,
        connect: options.connect,
        allowPrivate: options.allowPrivate,
        timeoutMs,
      });
    } catch (e) {
      // A secret sealed under another AUTH_SECRET, say: an attempt that failed before sending.
      result = {
        ok: false,
        statusCode: null,
        durationMs: 0,
        error: `not sent: ${(e as Error).message}`,
        responseBody: null,
      };
    }

    const failures = d.attempts + 1;
    let next: { status: "DELIVERED" | "PENDING" | "FAILED"; nextAttemptAt?: Date };
    if (result.ok) {
      next = { status: "DELIVERED" };
    } else {
      const retryAt = new Date(now().getTime() + retryDelayMs(failures, retry));
      next =
        retryAt.getTime() > d.createdAt.getTime() + retry.windowMs
          ? { status: "FAILED" }
          : { status: "PENDING", nextAttemptAt: retryAt };
    }
    const record = {
      at,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error?.slice(0, 1_000) ?? null,
      responseBody: result.responseBody,
      next,
    };
    let recorded: { ours: boolean; disabled: boolean };
    if (result.ok) {
      recorded = { ours: await repo.recordAttempt(db, d, record), disabled: false };
      if (row.endpoint.failingSince) {
        await repo.endpointSucceeded(db, d.organizationId, d.endpointId);
      }
    } else {
      recorded = await db.$transaction(async (tx) => ({
        ours: await repo.recordAttempt(tx, d, record),
        disabled: await repo.endpointFailed(
          tx,
          d.organizationId,
          d.endpointId,
          at,
          new Date(at.getTime() - disableAfterMs),
        ),
      }));
    }
    if (recorded.ours) {
      if (result.ok) countWebhookDelivery("delivered");
      else countWebhookDelivery(next.status === "FAILED" ? "gave_up" : "failed");
    }
    if (recorded.disabled) await mailDisabled(d);
  }

  async function mailDisabled(d: ClaimedDelivery): Promise<void> {
    const notice = await repo.disabledNotice(db, d.organizationId, d.endpointId);
    if (!notice) return;
    const link = publicUrl(`/${notice.organizationSlug}/settings/webhooks/${d.endpointId}`);
    const name = notice.description ? `"${notice.description}" (${notice.url})` : notice.url;
    for (const to of notice.emails) {
      await deliverMail(
        {
          to,
          subject: `A webhook endpoint of ${notice.organizationName} was disabled`,
          text: [
            `The webhook endpoint ${name} of the organization "${notice.organizationName}" on`,
            "Keyward has failed every delivery for 3 days, so it was disabled. Events are kept:",
            "fix the receiver, then enable the endpoint again to have them delivered.",
            "",
            link,
          ].join("\n"),
          link,
        },
        { sender: options.mail, log },
      );
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    wake() {
      if (running && !round) schedule(0);
      else if (running) again = true;
    },
    async stop(graceMs = timeoutMs + 2_000) {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await round;
      let cut: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((r) => {
          cut = setTimeout(r, graceMs);
          cut.unref();
        }),
      ]);
      clearTimeout(cut);
    },
    get inFlight() {
      return inFlight.size;
    },
  };
}

/** The server's loop: started once per process, stopped before the database closes. */
export function startWebhookDelivery(db: Db, log?: (line: string) => void): DeliveryLoop {
  const loop = createDeliveryLoop({ db, log });
  loop.start();
  // Stop claiming early (with the HTTP server), let attempts in flight finish (bounded by the
  // timeout), before the database closes (90).
  onShutdown("webhook-delivery", () => loop.stop(), 40);
  return loop;
}
