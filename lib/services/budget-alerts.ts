// budget.threshold webhook events: a key's credits used past 50, 80 and 100 % of its last refill
// (or starting balance), and a key's or organization's month-to-date metered cost past 50, 80 and
// 100 % of its spend cap. Checked by a timer every minute, off the verify path: verify then costs
// nothing more, and one check reads each organization's cost once (the rollups) and each balance
// once (the store) however many requests came in. The price is up to a minute of delay for the
// event; the refusal itself (CREDITS_EXHAUSTED, SPEND_LIMIT_EXCEEDED) is at once.
// Once per period: the event's dedupeKey names the key or organization, the period (the refill's
// day or month, the calendar month for spend) and the threshold, so the outbox enqueues it once.
import type { Db, Prisma } from "@/lib/db";
import { onShutdown } from "@/lib/lifecycle";
import { getRateLimiter, type RateLimiter } from "@/lib/ratelimit";
import { creditPeriod } from "@/lib/ratelimit/credits";
import { monthOf } from "@/lib/ratelimit/quota";
import { fromMicros, toMicros } from "@/lib/ratelimit/spend";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { creditPlanOf } from "./keys/credits";
import { enqueueWebhookEvent } from "./webhooks/enqueue";

const THRESHOLDS = [50, 80, 100] as const;
const PAGE = 1_000;

/** The thresholds `used` of `of` has reached (none when `of` is not positive). */
function reached(used: number, of: number): number[] {
  if (of <= 0) return [];
  return THRESHOLDS.filter((t) => used * 100 >= of * t);
}

/** Enqueues every threshold reached and not yet sent; returns how many events were enqueued. */
export async function checkBudgetThresholds(
  db: Db,
  options: { now?: number; limiter?: RateLimiter } = {},
): Promise<number> {
  const now = options.now ?? Date.now();
  const limiter = options.limiter ?? getRateLimiter();
  const month = monthOf(now);
  const events: {
    organizationId: string;
    dedupeKey: string;
    data: Prisma.InputJsonObject;
  }[] = [];
  const costs = new Map<string, Map<string, number>>(); // organization -> key -> micros
  const costOf = async (orgId: string) => {
    let c = costs.get(orgId);
    if (!c) {
      const rows = await usageRepository.costByKey(
        db,
        orgId,
        new Date(month.start),
        new Date(month.end),
      );
      c = new Map(rows.map((r) => [r.apiKeyId, toMicros(r.costUsd)]));
      costs.set(orgId, c);
    }
    return c;
  };

  let afterId: string | undefined;
  for (;;) {
    const keys = await apiKeyRepository.listBudgeted(db, { limit: PAGE, afterId });
    if (keys.length === 0) break;
    afterId = keys.at(-1)?.id;
    const withCredits = keys.flatMap((k) => {
      const plan = creditPlanOf(k);
      return plan ? [{ keyId: k.id, plan, key: k }] : [];
    });
    const live = withCredits.length ? await limiter.credits.peek(withCredits) : new Map();
    for (const { keyId, plan, key } of withCredits) {
      const remaining = live.get(keyId);
      const base = plan.refill ? plan.refill.amount : plan.initial;
      if (remaining === undefined) continue;
      const period = creditPeriod(plan, now);
      for (const t of reached(base - remaining, base)) {
        events.push({
          organizationId: key.organizationId,
          dedupeKey: `budget.threshold:credits:${keyId}:${period}:${t}`,
          data: { kind: "credits", keyId, threshold: t, remaining, of: base, period },
        });
      }
    }
    for (const key of keys) {
      if (key.spendLimitUsd === null) continue;
      const cap = toMicros(key.spendLimitUsd.toString());
      const spent = (await costOf(key.organizationId)).get(key.id) ?? 0;
      for (const t of reached(spent, cap)) {
        events.push({
          organizationId: key.organizationId,
          dedupeKey: `budget.threshold:spend:key:${key.id}:${month.key}:${t}`,
          data: {
            kind: "spend",
            keyId: key.id,
            threshold: t,
            spentUsd: fromMicros(spent),
            limitUsd: fromMicros(cap),
            month: month.key,
          },
        });
      }
    }
    if (keys.length < PAGE) break;
  }
  for (const org of await organizationRepository.listWithSpendLimit(db)) {
    if (org.spendLimitUsd === null) continue;
    const cap = toMicros(org.spendLimitUsd.toString());
    let spent = 0;
    for (const micros of (await costOf(org.id)).values()) spent += micros;
    for (const t of reached(spent, cap)) {
      events.push({
        organizationId: org.id,
        dedupeKey: `budget.threshold:spend:organization:${org.id}:${month.key}:${t}`,
        data: {
          kind: "spend",
          keyId: null,
          threshold: t,
          spentUsd: fromMicros(spent),
          limitUsd: fromMicros(cap),
          month: month.key,
        },
      });
    }
  }

  let sent = 0;
  for (const e of events) {
    const id = await db.$transaction((tx) =>
      enqueueWebhookEvent(tx, { type: "budget.threshold", ...e }),
    );
    if (id) sent++;
  }
  return sent;
}

/** Runs the check every `intervalMs` (default a minute) until shutdown. */
export function startBudgetAlertTimer(options: {
  db: () => Promise<Db>;
  log: (message: string) => void;
  intervalMs?: number;
}): void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        await checkBudgetThresholds(await options.db());
      } catch (e) {
        options.log(`budget-alerts: check failed (${(e as Error)?.name ?? "Error"})`);
      } finally {
        running = false;
      }
    })();
  }, options.intervalMs ?? 60_000);
  timer.unref();
  onShutdown("budget-alerts", async () => clearInterval(timer), 20);
}
