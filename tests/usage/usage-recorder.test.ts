import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { shutdown } from "@/lib/lifecycle";
import { getUsageRecorder, type UsageDb, UsageRecorder } from "@/lib/services/usage-recorder";
import type { UsageEvent } from "@/lib/usage/event";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { createApiKeyRow, createOrganization } from "@/tests/ratelimit/fixtures";
import { T0, usageEvent } from "./fixtures";

describe.each(testDbKinds)("usage recorder (%s)", (kind) => {
  let db: TestDatabase;
  let orgId: string;
  let keys: string[];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    orgId = await createOrganization(db.prisma);
    keys = [];
    for (let i = 0; i < 3; i++) keys.push(await createApiKeyRow(db.prisma, orgId));
  });
  afterAll(() => db?.close());

  const event = (apiKeyId: string, i: number, extra: Partial<UsageEvent> = {}) =>
    usageEvent(orgId, apiKeyId, i, extra);

  async function freshKey(): Promise<string> {
    return createApiKeyRow(db.prisma, orgId);
  }

  it("writes 10,000 events exactly, in batches, with per-key counters and lastUsedAt", async () => {
    const k = [await freshKey(), await freshKey(), await freshKey()];
    const recorder = new UsageRecorder({ db: db.prisma, flushIntervalMs: 0, batchSize: 500 });
    // Cheap: no I/O on the caller's path. Measured as this process's CPU time, not wall time,
    // so that another test file running beside it on the same cores cannot fail it.
    const started = process.cpuUsage();
    for (let i = 0; i < 10_000; i++) expect(recorder.record(event(k[i % 3], i))).toBe(true);
    const used = process.cpuUsage(started);
    const recordCpuMs = (used.user + used.system) / 1000;
    expect(recordCpuMs).toBeLessThan(1_000);
    await recorder.flush();
    const s = recorder.stats();
    expect(s).toMatchObject({ recorded: 10_000, written: 10_000, pending: 0, dropped: 0 });
    expect(s.batches).toBe(20); // 500 per transaction, never one per event

    const byKey = await db.prisma.apiKeyUsage.groupBy({
      by: ["apiKeyId"],
      where: { apiKeyId: { in: k } },
      _count: { _all: true },
      _sum: { tokens: true, costUsd: true },
    });
    const counts = Object.fromEntries(byKey.map((g) => [g.apiKeyId, g._count._all]));
    expect(counts).toEqual({ [k[0]]: 3334, [k[1]]: 3333, [k[2]]: 3333 });
    const total = byKey.reduce((n, g) => n + (g._sum.tokens ?? 0), 0);
    expect(total).toBe(20_000);
    expect(byKey.find((g) => g.apiKeyId === k[0])?._sum.costUsd?.toString()).toBe("0.410082");

    const rows = await db.prisma.apiKey.findMany({ where: { id: { in: k } } });
    for (const row of rows) {
      const idx = k.indexOf(row.id);
      expect(row.requestCount).toBe(BigInt(counts[row.id]));
      const lastI = [9999, 9997, 9998][idx]; // highest i with i % 3 === idx
      expect(row.lastUsedAt?.getTime()).toBe(T0 + lastI);
    }
    await recorder.close();
  });

  it("flushes by size without waiting for the timer", async () => {
    const key = await freshKey();
    const recorder = new UsageRecorder({ db: db.prisma, flushIntervalMs: 0, batchSize: 50 });
    for (let i = 0; i < 49; i++) recorder.record(event(key, i));
    await new Promise((r) => setTimeout(r, 50));
    expect(recorder.stats().written).toBe(0);
    recorder.record(event(key, 49));
    await vi.waitFor(() => expect(recorder.stats().written).toBe(50), { timeout: 5_000 });
    await recorder.close();
  });

  it("under steady load writes only full batches; the rest waits for the timer or flush", async () => {
    const key = await freshKey();
    const recorder = new UsageRecorder({ db: db.prisma, flushIntervalMs: 0, batchSize: 50 });
    // Events keep arriving while the first batch is written, as they do under load.
    for (let i = 0; i < 50; i++) recorder.record(event(key, i));
    for (let i = 50; i < 175; i++) {
      recorder.record(event(key, i));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await vi.waitFor(() => expect(recorder.stats().written).toBe(150), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 100));
    // Three full batches; the 25 left over are not written as a small batch of their own.
    expect(recorder.stats()).toMatchObject({ written: 150, batches: 3, pending: 25 });
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ written: 175, batches: 4, pending: 0 });
    await recorder.close();
  });

  it("flush() during a drain of full batches also writes the partial rest", async () => {
    const key = await freshKey();
    const recorder = new UsageRecorder({ db: db.prisma, flushIntervalMs: 0, batchSize: 50 });
    for (let i = 0; i < 60; i++) recorder.record(event(key, i)); // a full-batch drain starts
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ written: 60, pending: 0 });
    await recorder.close();
  });

  it("flushes on the timer", async () => {
    const key = await freshKey();
    const recorder = new UsageRecorder({ db: db.prisma, flushIntervalMs: 20 });
    for (let i = 0; i < 3; i++) recorder.record(event(key, i));
    await vi.waitFor(
      async () => expect(await db.prisma.apiKeyUsage.count({ where: { apiKeyId: key } })).toBe(3),
      { timeout: 5_000 },
    );
    await recorder.close();
  });

  it("close writes everything, stops the timer, and refuses later events (counted)", async () => {
    const key = await freshKey();
    const recorder = new UsageRecorder({ db: db.prisma, batchSize: 500 });
    for (let i = 0; i < 1_234; i++) recorder.record(event(key, i));
    await recorder.close();
    expect(await db.prisma.apiKeyUsage.count({ where: { apiKeyId: key } })).toBe(1_234);
    expect(recorder.record(event(key, 0))).toBe(false);
    expect(recorder.stats()).toMatchObject({ written: 1_234, dropped: 1, pending: 0 });
  });

  it("keeps a failed batch for retry and writes it once the database is back", async () => {
    const key = await freshKey();
    const logs: string[] = [];
    let failures = 2;
    const flaky: UsageDb = {
      apiKey: db.prisma.apiKey,
      $queryRaw: ((...args: Parameters<UsageDb["$queryRaw"]>) => {
        if (failures-- > 0) return Promise.reject(new Error("Connection terminated unexpectedly"));
        return db.prisma.$queryRaw(...args);
      }) as UsageDb["$queryRaw"],
    };
    const recorder = new UsageRecorder({
      db: flaky,
      flushIntervalMs: 0,
      batchSize: 4,
      log: (m) => logs.push(m),
    });
    for (let i = 0; i < 10; i++) recorder.record(event(key, i, { ipAddress: "198.51.100.77" }));
    await expect(recorder.flush()).rejects.toThrow(/Connection terminated/);
    expect(recorder.stats()).toMatchObject({ pending: 10, written: 0, failedFlushes: 1 });
    await expect(recorder.flush()).rejects.toThrow();
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ pending: 0, written: 10, failedFlushes: 2 });
    const rows = await db.prisma.apiKeyUsage.findMany({
      where: { apiKeyId: key },
      orderBy: { createdAt: "asc" },
    });
    expect(rows.map((r) => r.createdAt.getTime() - T0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await db.prisma.apiKey.findUnique({ where: { id: key } }))?.requestCount).toBe(10n);
    expect(logs).toHaveLength(2);
    expect(logs.join("\n")).not.toContain("198.51.100.77");
    expect(logs[0]).toMatch(/10 kept, retry in 1000 ms/);
    expect(logs[1]).toMatch(/retry in 2000 ms/);
    await recorder.close();
  });

  it("retries a failed batch as its own unit, never merged with newer events", async () => {
    const key = await freshKey();
    const sizes: number[] = [];
    let down = true;
    const flaky: UsageDb = {
      apiKey: db.prisma.apiKey,
      $queryRaw: (async (...args: Parameters<UsageDb["$queryRaw"]>) => {
        if (down) throw new Error("Connection terminated unexpectedly");
        const r = (await db.prisma.$queryRaw(...args)) as { inserted: bigint }[];
        sizes.push(Number(r[0]?.inserted));
        return r;
      }) as UsageDb["$queryRaw"],
    };
    const recorder = new UsageRecorder({
      db: flaky,
      flushIntervalMs: 0,
      batchSize: 4,
      log: () => {},
    });
    for (let i = 0; i < 3; i++) recorder.record(event(key, i));
    await expect(recorder.flush()).rejects.toThrow(/Connection terminated/);
    for (let i = 3; i < 8; i++) recorder.record(event(key, i));
    down = false;
    await recorder.flush();
    // The failed 3 alone, then the newer events in batches of 4: not [4, 4].
    expect(sizes).toEqual([3, 4, 1]);
    expect(recorder.stats()).toMatchObject({ pending: 0, written: 8, failedFlushes: 1 });
    await recorder.close();
  });

  it("an unexplained error while the database answers: bisects and drops only that event", async () => {
    const key = await freshKey();
    const logs: string[] = [];
    let statements = 0;
    const picky: UsageDb = {
      apiKey: db.prisma.apiKey,
      $queryRaw: ((...args: Parameters<UsageDb["$queryRaw"]>) => {
        statements++;
        const sql = args[0] as unknown as { values?: unknown[] };
        // A Prisma.Sql holds its parameters in `values` (the probe, a template, holds none).
        const values = Array.isArray(sql.values) ? sql.values : [];
        const poisoned = values.some((v) => Array.isArray(v) && v.includes("/poison"));
        // No SQLSTATE, nothing that says "connection": only the rows can tell.
        if (poisoned) return Promise.reject(new Error("something odd happened"));
        return db.prisma.$queryRaw(...args);
      }) as UsageDb["$queryRaw"],
    };
    const recorder = new UsageRecorder({
      db: picky,
      flushIntervalMs: 0,
      batchSize: 64,
      log: (m) => logs.push(m),
    });
    for (let i = 0; i < 64; i++) {
      recorder.record(event(key, i, i === 37 ? { endpoint: "/poison" } : {}));
    }
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({
      pending: 0,
      written: 63,
      failedFlushes: 0,
      droppedByReason: { rejected: 1, invalid_text: 0, out_of_range: 0, orphaned: 0 },
    });
    // The batch fails and is probed; then at each of log2(64) = 6 levels one good half is
    // written and one bad half fails and is probed, the last being the event alone.
    expect(statements).toBe(2 + 6 * 3);
    expect(await db.prisma.apiKeyUsage.count({ where: { apiKeyId: key } })).toBe(63);
    expect((await db.prisma.apiKey.findUnique({ where: { id: key } }))?.requestCount).toBe(63n);
    expect(logs).toEqual([
      `usage-recorder: dropped 1 usage event of organization ${orgId} key ${key} (rejected)`,
    ]);
    await recorder.close();
  });

  it("with two writers: two batches in flight, every event written once, failures kept", async () => {
    const key = await freshKey();
    let inFlight = 0;
    let most = 0;
    let failOn = 3; // the third statement fails once
    const watched: UsageDb = {
      apiKey: db.prisma.apiKey,
      $queryRaw: (async (...args: Parameters<UsageDb["$queryRaw"]>) => {
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          if (--failOn === 0) throw new Error("Connection terminated unexpectedly");
          await new Promise((r) => setTimeout(r, 5));
          return await db.prisma.$queryRaw(...args);
        } finally {
          inFlight--;
        }
      }) as UsageDb["$queryRaw"],
    };
    const recorder = new UsageRecorder({
      db: watched,
      flushIntervalMs: 0,
      batchSize: 100,
      writers: 2,
      log: () => {},
    });
    for (let i = 0; i < 1_000; i++) recorder.record(event(key, i));
    await expect(recorder.flush()).rejects.toThrow(/Connection terminated/);
    expect(recorder.stats().pending).toBeGreaterThan(0);
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ pending: 0, written: 1_000, failedFlushes: 1 });
    expect(most).toBe(2);
    expect(await db.prisma.apiKeyUsage.count({ where: { apiKeyId: key } })).toBe(1_000);
    expect((await db.prisma.apiKey.findUnique({ where: { id: key } }))?.requestCount).toBe(1_000n);
    await recorder.close();
  });

  it("a batch retried after a lost commit answer is counted once", async () => {
    const key = await freshKey();
    let lose = true;
    const lossy: UsageDb = {
      apiKey: db.prisma.apiKey,
      $queryRaw: (async (...args: Parameters<UsageDb["$queryRaw"]>) => {
        const r = await db.prisma.$queryRaw(...args);
        if (lose) {
          lose = false;
          throw new Error("Connection terminated unexpectedly"); // committed, answer lost
        }
        return r;
      }) as UsageDb["$queryRaw"],
    };
    const recorder = new UsageRecorder({ db: lossy, flushIntervalMs: 0, log: () => {} });
    for (let i = 0; i < 7; i++) recorder.record(event(key, i));
    await expect(recorder.flush()).rejects.toThrow();
    await recorder.flush();
    expect(await db.prisma.apiKeyUsage.count({ where: { apiKeyId: key } })).toBe(7);
    expect((await db.prisma.apiKey.findUnique({ where: { id: key } }))?.requestCount).toBe(7n);
    await recorder.close();
  });

  it("bounded: a full buffer refuses and counts; recordAsync waits for room instead", async () => {
    const key = await freshKey();
    const down: UsageDb = {
      apiKey: db.prisma.apiKey,
      $queryRaw: (() => Promise.reject(new Error("ECONNREFUSED"))) as UsageDb["$queryRaw"],
    };
    const full = new UsageRecorder({
      db: down,
      flushIntervalMs: 0,
      batchSize: 10,
      maxBuffer: 100,
      log: () => {},
    });
    let kept = 0;
    for (let i = 0; i < 150; i++) if (full.record(event(key, i))) kept++;
    expect(kept).toBe(100);
    expect(full.stats()).toMatchObject({ dropped: 50, pending: 100 });
    await full.close(); // still down: what was kept is lost, and counted
    expect(full.stats()).toMatchObject({
      dropped: 150,
      pending: 0,
      droppedByReason: { buffer_full: 50, shutdown: 100 },
    });

    const waiting = new UsageRecorder({
      db: db.prisma,
      flushIntervalMs: 0,
      batchSize: 5,
      maxBuffer: 10,
    });
    for (let i = 0; i < 40; i++) expect(await waiting.recordAsync(event(key, i))).toBe(true);
    await waiting.close();
    expect(waiting.stats()).toMatchObject({ dropped: 0, written: 40 });
  });

  it("discards events of a deleted key instead of retrying them forever", async () => {
    const live = await freshKey();
    const doomed = await freshKey();
    const recorder = new UsageRecorder({ db: db.prisma, flushIntervalMs: 0, log: () => {} });
    recorder.record(event(live, 1));
    recorder.record(event(doomed, 2));
    recorder.record(event(live, 3));
    await db.prisma.apiKey.delete({ where: { id: doomed } });
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({
      written: 2,
      orphaned: 1,
      pending: 0,
      droppedByReason: { orphaned: 1 },
    });
    expect(await db.prisma.apiKeyUsage.count({ where: { apiKeyId: live } })).toBe(2);
    await recorder.close();
  });

  it("refuses malformed events at record time and cleans up the rest", async () => {
    const key = await freshKey();
    const recorder = new UsageRecorder({ db: db.prisma, flushIntervalMs: 0 });
    expect(recorder.record(event("not-a-uuid", 1))).toBe(false);
    expect(recorder.record(event(key, 1, { statusCode: 42 }))).toBe(false);
    expect(
      recorder.record(
        event(key, 2, {
          costUsd: "1e9",
          responseTimeMs: 12.7,
          userAgent: "x".repeat(5_000),
          errorMessage: "boom",
          errorCode: "UPSTREAM",
          tokens: undefined,
          createdAt: undefined,
        }),
      ),
    ).toBe(true);
    await recorder.close();
    expect(recorder.stats()).toMatchObject({
      invalid: 2,
      written: 1,
      droppedByReason: { malformed: 2 },
    });
    const row = await db.prisma.apiKeyUsage.findFirstOrThrow({ where: { apiKeyId: key } });
    expect(row.costUsd.toString()).toBe("0");
    expect(row.responseTimeMs).toBe(13);
    expect(row.tokens).toBe(0);
    expect(row.userAgent).toHaveLength(512);
    expect(row.errorCode).toBe("UPSTREAM");
    expect(Math.abs(row.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
  });
});

describe("getUsageRecorder", () => {
  it("is one per process and is closed by the shutdown hooks", async () => {
    const a = getUsageRecorder();
    expect(getUsageRecorder()).toBe(a);
    const held = (globalThis as unknown as Record<symbol, { recorder?: UsageRecorder }>)[
      Symbol.for("keyward.usage-recorder")
    ];
    expect(held.recorder).toBe(a);
    await shutdown(() => {});
    expect(held.recorder).toBeUndefined();
    expect(a.record({ ...sampleEvent(), apiKeyId: randomUUID() })).toBe(false); // closed
  });
});

function sampleEvent(): UsageEvent {
  return {
    apiKeyId: randomUUID(),
    organizationId: randomUUID(),
    endpoint: "/api/v1/keys",
    method: "GET",
    statusCode: 200,
    responseTimeMs: 1,
  };
}
