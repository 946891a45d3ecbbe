// Every /api/v1 call that can be tied to a key is metered: buffered off the request path, written
// in batches, flushed at shutdown, and never able to fail the request.
//
// Private adapter: until lib/services/usage-recorder.ts (getUsageRecorder().record) exists, this
// small buffer writes through the usage and api-key repositories itself.
import { getDb } from "@/lib/db";
import { onShutdown } from "@/lib/lifecycle";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { type UsageInput, usageRepository } from "@/lib/repositories/usage-repository";
import { getLogger } from "./logger";

export interface MeterEvent {
  apiKeyId: string;
  organizationId: string;
  endpoint: string;
  method: string;
  statusCode: number;
  responseTimeMs: number;
  tokens?: number;
  costUsd?: string;
  ipAddress?: string | null;
  userAgent?: string | null;
  errorCode?: string | null;
  createdAt?: Date;
}

const KEY = Symbol.for("keyward.http.meterBuffer");
const MAX_BUFFER = 50_000;
const FLUSH_MS = 500;

interface Buffer {
  events: UsageInput[];
  timer?: NodeJS.Timeout;
  flushing?: Promise<void>;
}

function buffer(): Buffer {
  const g = globalThis as unknown as Record<symbol, Buffer | undefined>;
  if (!g[KEY]) {
    g[KEY] = { events: [] };
    onShutdown("http-metering", () => flushMetering(), 50);
  }
  return g[KEY];
}

export function meter(event: MeterEvent): void {
  try {
    const b = buffer();
    if (b.events.length >= MAX_BUFFER) return; // shed load rather than grow without bound
    b.events.push({ ...event, createdAt: event.createdAt ?? new Date() });
    b.timer ??= setTimeout(() => {
      b.timer = undefined;
      void flushMetering();
    }, FLUSH_MS);
    b.timer.unref?.();
  } catch {
    // metering never fails a request
  }
}

export function pendingMeterEvents(): number {
  return buffer().events.length;
}

export async function flushMetering(): Promise<void> {
  const b = buffer();
  if (b.flushing) await b.flushing;
  if (b.events.length === 0) return;
  const batch = b.events.splice(0, b.events.length);
  b.flushing = (async () => {
    try {
      const db = await getDb();
      for (let i = 0; i < batch.length; i += 1000) {
        await usageRepository.createMany(db, batch.slice(i, i + 1000));
      }
      const uses = new Map<string, { id: string; count: number; lastUsedAt: Date }>();
      for (const e of batch) {
        const u = uses.get(e.apiKeyId) ?? { id: e.apiKeyId, count: 0, lastUsedAt: e.createdAt! };
        u.count++;
        if (e.createdAt! > u.lastUsedAt) u.lastUsedAt = e.createdAt!;
        uses.set(e.apiKeyId, u);
      }
      await apiKeyRepository.recordUses(db, [...uses.values()]);
    } catch (e) {
      getLogger().error(
        { err: { message: (e as Error).message }, lost: batch.length },
        "usage flush failed",
      );
    } finally {
      b.flushing = undefined;
    }
  })();
  await b.flushing;
}
