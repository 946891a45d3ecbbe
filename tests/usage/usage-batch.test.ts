// The recorder's column ring (lib/usage/batch.ts): ids unique whatever the pattern of appends
// and takes (growing, wrapping, emptying), order kept, and every row normalized exactly as
// toUsageRow normalizes it.
import { describe, expect, it } from "vitest";
import { columnsOf, columnsOfRows, idOf, selectRows, UsageRing } from "@/lib/usage/batch";
import { toUsageRow, type UsageEvent } from "@/lib/usage/event";
import { MAX_EVENT_RESPONSE_TIME_MS } from "@/lib/validation/usage";

const KEY = "00000000-0000-4000-8000-000000000001";
const ORG = "00000000-0000-4000-8000-000000000002";
const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const event = (i: number, extra: Partial<UsageEvent> = {}): UsageEvent => ({
  apiKeyId: KEY,
  organizationId: ORG,
  endpoint: "/api/v1/keys/verify",
  method: "POST",
  statusCode: 200,
  responseTimeMs: i,
  createdAt: new Date(1_700_000_000_000 + i),
  ...extra,
});

describe("UsageRing", () => {
  it("gives every event its own v4 id and keeps order through growth, wrapping and emptying", () => {
    for (const max of [50_000, 3_000, 1_500]) {
      const ring = new UsageRing(max);
      const ids = new Set<string>();
      let pushed = 0;
      let taken = 0;
      let notV4 = 0;
      let disorder = 0;
      let seed = max;
      const rand = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed % n;
      };
      for (let step = 0; step < 600; step++) {
        const n = rand(800);
        for (let i = 0; i < n; i++) if (ring.push(event(pushed), 0)) pushed++;
        const b = ring.take(rand(900));
        for (let i = 0; i < b.n; i++) {
          const id = idOf(b, i);
          if (!V4.test(id)) notV4++;
          ids.add(id);
          // FIFO: the latency field carries the event's number.
          if (b.responseTimeMs[i] !== Math.min(taken + i, MAX_EVENT_RESPONSE_TIME_MS)) disorder++;
        }
        taken += b.n;
        expect(ring.length).toBe(pushed - taken);
      }
      expect({ unique: ids.size, notV4, disorder }).toEqual({
        unique: taken,
        notV4: 0,
        disorder: 0,
      });
    }
  });

  it("refuses past its bound", () => {
    const ring = new UsageRing(10, 4);
    for (let i = 0; i < 10; i++) expect(ring.push(event(i), 0)).toBe(true);
    expect(ring.push(event(10), 0)).toBe(false);
    expect(ring.take(3).n).toBe(3);
    expect(ring.push(event(11), 0)).toBe(true);
  });

  it("normalizes each field as toUsageRow does", () => {
    const events: UsageEvent[] = [
      event(1),
      event(2, { statusCode: 429 }),
      event(3, { statusCode: 429, billable: true }),
      event(4, { billable: false, costUsd: "0.5", tokens: 7.6 }),
      event(5, { costUsd: "1e9", tokens: -3, responseTimeMs: Number.NaN }),
      event(6, { endpoint: "x".repeat(600), method: "VERYLONGMETHODNAME" }),
      event(7, { ipAddress: "203.0.113.9\u0000", userAgent: "agent\uD800", errorCode: null }),
      event(8, { errorCode: "E".repeat(80), errorMessage: "m".repeat(1_200), statusCode: 500 }),
      event(9, { createdAt: new Date(Number.NaN) }),
    ];
    const ring = new UsageRing(100);
    for (const e of events) ring.push(e, 1_234);
    const batch = ring.take(100);
    const rows = events.map((e) => toUsageRow(e));
    const fromRows = columnsOfRows(rows.map((r) => r as NonNullable<typeof r>));
    const fromBatch = columnsOf(batch);
    for (const k of Object.keys(fromRows) as (keyof typeof fromRows)[]) {
      if (k === "id") continue;
      if (k === "createdAt") {
        expect(fromBatch.createdAt.slice(0, 8)).toEqual(fromRows.createdAt.slice(0, 8));
        expect(fromBatch.createdAt[8]).toBe(1_234); // no valid time: now
        continue;
      }
      expect([k, fromBatch[k]]).toEqual([k, fromRows[k]]);
    }
    const picked = columnsOf(selectRows(batch, [7, 2]));
    expect(picked.statusCode).toEqual([500, 429]);
    expect(picked.id).toEqual([idOf(batch, 7), idOf(batch, 2)]);
  });
});
