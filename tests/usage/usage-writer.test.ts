// The usage recorder's worker-thread writer on PostgreSQL (lib/services/usage-writer.ts): the
// same statement, the same failure policy, run from a worker thread with its own pg pool.
// Real PostgreSQL, a real worker thread, and for "the database is down" a real TCP proxy in
// front of the server that is closed and opened again.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageRecorder, type UsageRecorderStats } from "@/lib/services/usage-recorder";
import { usageWorkerAvailable, workerSink } from "@/lib/services/usage-writer";
import type { UsageEvent } from "@/lib/usage/event";
import { createTestDatabase, type TestDatabase } from "@/tests/helpers/db";
import { createApiKeyRow, createOrganization } from "@/tests/ratelimit/fixtures";
import { T0, usageEvent } from "./fixtures";

/** A TCP proxy to the PostgreSQL server that can be taken down (every connection cut) and up. */
function proxyTo(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  return {
    get port() {
      return port;
    },
    async up(): Promise<void> {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", () => resolve()));
      port = (server.address() as net.AddressInfo).port;
    },
    async down(): Promise<void> {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
  };
}

describe.skipIf(!process.env.DATABASE_URL)(
  "usage writer thread (postgres; needs DATABASE_URL)",
  () => {
    let db: TestDatabase;
    let orgId: string;

    beforeAll(async () => {
      db = await createTestDatabase("postgres");
      orgId = await createOrganization(db.prisma);
    });
    afterAll(() => db?.close());

    const event = (apiKeyId: string, i: number, extra: Partial<UsageEvent> = {}) =>
      usageEvent(orgId, apiKeyId, i, extra);

    const rowsOf = (key: string) => db.prisma.apiKeyUsage.count({ where: { apiKeyId: key } });
    const countOf = async (key: string) =>
      (await db.prisma.apiKey.findUnique({ where: { id: key } }))?.requestCount;
    const keyRollup = async (key: string) =>
      (
        await db.prisma.usageRollup.aggregate({
          where: { apiKeyId: key, level: "KEY", granularity: "HOUR" },
          _sum: { requests: true, billable: true },
        })
      )._sum;

    it("the worker's script is found from the repository", () => {
      expect(usageWorkerAvailable()).toBe(true);
    });

    it("writes every event exactly once: rows, key counters and rollups, as the main thread would", async () => {
      const keys = [
        await createApiKeyRow(db.prisma, orgId),
        await createApiKeyRow(db.prisma, orgId),
        await createApiKeyRow(db.prisma, orgId),
      ];
      const recorder = new UsageRecorder({
        sink: workerSink({ url: db.url as string }),
        flushIntervalMs: 0,
        batchSize: 500,
        writers: 2,
      });
      for (let i = 0; i < 6_000; i++) {
        expect(
          recorder.record(event(keys[i % 3] as string, i, i === 7 ? { billable: true } : {})),
        ).toBe(true);
      }
      await recorder.flush();
      expect(recorder.stats()).toMatchObject({
        recorded: 6_000,
        written: 6_000,
        pending: 0,
        dropped: 0,
        batches: 12,
        failedFlushes: 0,
      });
      for (const key of keys) {
        expect(await rowsOf(key)).toBe(2_000);
        expect(await countOf(key)).toBe(2_000n);
        // 429s are not billable unless the event says so (event 7 is not a 429 anyway).
        expect(await keyRollup(key)).toEqual({ requests: 2_000n, billable: 1_800n });
      }
      const one = await db.prisma.apiKeyUsage.findFirst({
        where: { apiKeyId: keys[1], createdAt: new Date(T0 + 10) },
      });
      expect(one).toMatchObject({
        endpoint: "/api/v1/verify",
        method: "POST",
        statusCode: 429,
        responseTimeMs: 10,
        tokens: 2,
        ipAddress: "203.0.113.5",
        userAgent: "vitest",
        billable: false,
      });
      expect(one?.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(one?.costUsd.toString()).toBe("0.000123");
      await recorder.close();
    });

    it("isolates a row the database refuses and an orphaned key; every other event is written", async () => {
      const key = await createApiKeyRow(db.prisma, orgId);
      const doomed = await createApiKeyRow(db.prisma, orgId);
      const logs: string[] = [];
      const recorder = new UsageRecorder({
        sink: workerSink({ url: db.url as string }),
        flushIntervalMs: 0,
        batchSize: 200,
        log: (m) => logs.push(m),
      });
      for (let i = 0; i < 200; i++) {
        const extra: Partial<UsageEvent> = i === 77 ? { endpoint: "/a\u0000b" } : {};
        recorder.record(event(i === 150 ? doomed : key, i, extra));
      }
      await db.prisma.apiKey.delete({ where: { id: doomed } });
      await recorder.flush();
      expect(recorder.stats()).toMatchObject({
        written: 198,
        pending: 0,
        orphaned: 1,
        failedFlushes: 0,
        droppedByReason: { invalid_text: 1, orphaned: 1, rejected: 0, out_of_range: 0 },
      });
      expect(await rowsOf(key)).toBe(198);
      expect(await countOf(key)).toBe(198n);
      expect(logs.sort()).toEqual(
        [
          `usage-recorder: dropped 1 usage event of organization ${orgId} key ${doomed} (orphaned)`,
          `usage-recorder: dropped 1 usage event of organization ${orgId} key ${key} (invalid_text)`,
        ].sort(),
      );
      // Nothing of the event's values reaches a log.
      expect(logs.join("\n")).not.toContain("/a");
      await recorder.close();
    });

    it("keeps the events while the database is down and writes them once when it is back", async () => {
      const key = await createApiKeyRow(db.prisma, orgId);
      const proxy = proxyTo(new URL(db.url as string));
      await proxy.up();
      const url = new URL(db.url as string);
      url.host = `127.0.0.1:${proxy.port}`;
      const logs: string[] = [];
      const recorder = new UsageRecorder({
        sink: workerSink({ url: url.toString(), connectMs: 1_000, queryMs: 5_000 }),
        flushIntervalMs: 0,
        batchSize: 100,
        log: (m) => logs.push(m),
      });
      for (let i = 0; i < 100; i++) recorder.record(event(key, i));
      await recorder.flush();
      expect(await rowsOf(key)).toBe(100);

      await proxy.down();
      for (let i = 100; i < 250; i++) recorder.record(event(key, i));
      await expect(recorder.flush()).rejects.toThrow();
      const down: UsageRecorderStats = recorder.stats();
      expect(down).toMatchObject({ pending: 150, written: 100, failedFlushes: 1, dropped: 0 });
      expect(down.lastError).toMatch(/ECONNREFUSED|terminated|ECONNRESET|timeout/i);
      expect(logs.at(-1)).toMatch(/^usage-recorder: writing 100 usage events failed/);

      await proxy.up();
      await recorder.flush();
      expect(recorder.stats()).toMatchObject({ pending: 0, written: 250, dropped: 0 });
      expect(await rowsOf(key)).toBe(250);
      expect(await countOf(key)).toBe(250n);
      expect((await keyRollup(key)).requests).toBe(250n);
      await recorder.close();
      await proxy.down();
    });

    it("close() writes what is buffered, waits for the thread, and then refuses events", async () => {
      const key = await createApiKeyRow(db.prisma, orgId);
      const recorder = new UsageRecorder({
        sink: workerSink({ url: db.url as string }),
        flushIntervalMs: 0,
        batchSize: 1_000,
      });
      for (let i = 0; i < 2_345; i++) recorder.record(event(key, i));
      await recorder.close();
      expect(recorder.stats()).toMatchObject({ written: 2_345, pending: 0, dropped: 0 });
      expect(await rowsOf(key)).toBe(2_345);
      expect(recorder.record(event(key, 0, { createdAt: new Date(T0 - 1) }))).toBe(false);
      expect(recorder.stats().droppedByReason.shutdown).toBe(1);
    });
  },
);
