// ratelimit.exceeded: at most one per key per 5-minute window, written off the request's path. An
// in-process memo answers repeats without touching the database (a flood of 429s costs one
// write per key per window), the write is fire-and-forget, and its failure is logged, never
// failing the request. Across instances the dedupe mark keeps it to one.
import type { Db } from "@/lib/db";
import { onShutdown } from "@/lib/lifecycle";
import { RATELIMIT_NOTICE_WINDOW_MS } from "@/lib/validation/rules";
import type { CachedKey } from "../key-cache";
import { emitWebhookEvent } from "./emit";

const MEMO_MAX = 10_000;
const memo = new Map<string, number>();
const pending = new Set<Promise<unknown>>();

export function noteRateLimitExceeded(
  db: Db,
  key: CachedKey,
  limitPerMinute: number,
  options: { now?: number; log?: (line: string) => void } = {},
): void {
  const window = Math.floor((options.now ?? Date.now()) / RATELIMIT_NOTICE_WINDOW_MS);
  if (memo.get(key.id) === window) return;
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key.id, window);
  const log = options.log ?? console.error;
  const write = db
    .$transaction((tx) =>
      emitWebhookEvent(
        tx,
        key.organizationId,
        "ratelimit.exceeded",
        {
          key: {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            hint: key.hint,
            environment: key.environment,
          },
          limitPerMinute,
          windowStart: new Date(window * RATELIMIT_NOTICE_WINDOW_MS).toISOString(),
        },
        `ratelimit.exceeded:${key.id}:${window}`,
      ),
    )
    .catch((e) => {
      // Not tried again in this window: an outage must not turn each 429 into a write.
      log(`keyward: ratelimit.exceeded for key ${key.id} not written: ${(e as Error).message}`);
    })
    .finally(() => pending.delete(write));
  if (pending.size === 0) onShutdown("ratelimit-notices", flushRateLimitNotices, 40);
  pending.add(write);
}

/** Waits for the notices being written (tests, shutdown). */
export async function flushRateLimitNotices(): Promise<void> {
  await Promise.allSettled([...pending]);
}
