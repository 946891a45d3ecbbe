// The real server on PostgreSQL meters through its worker thread (lib/services/usage-writer.ts):
// every verify metered exactly once (usage rows = requestCount = sent, rollups too), the writes
// made by the thread's own connections, and SIGTERM losing nothing acknowledged. On both lanes
// (the lean lane in server.ts and Next's route handler, which bundles the recorder on its own).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenDatabase, openDatabase } from "@/lib/db";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { createKey } from "@/lib/services/keys";
import { createPostgresDatabase } from "@/tests/helpers/db";
import { startServer, type TestServer } from "@/tests/helpers/server";

const operator: Actor = { type: "system", id: "metering-postgres-tests" };

describe.skipIf(!process.env.DATABASE_URL).each(["1", "0"])(
  "metering on PostgreSQL, KEYWARD_LEAN_LANE=%s (needs DATABASE_URL)",
  (lane) => {
    let server: TestServer;
    let db: OpenDatabase;
    let drop: () => Promise<void>;
    let key: { key: string; id: string };

    beforeAll(async () => {
      const created = await createPostgresDatabase();
      drop = created.drop;
      db = await openDatabase({ kind: "postgres", url: created.url });
      const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
      const org = await organizationRepository.create(db.prisma, {
        name: `Metered ${stamp}`,
        email: `metered-${stamp}@example.test`,
        plan: "ENTERPRISE",
        maxActiveKeys: 10,
      });
      const r = await createKey(
        db.prisma,
        {
          organizationId: org.id,
          name: "metered",
          environment: "live",
          scopes: ["keys:read"],
          rateLimitPerMinute: 100_000,
        },
        operator,
      );
      key = { key: r.key, id: r.apiKey.id };
      server = await startServer({
        env: { DATABASE_URL: created.url, REDIS_URL: undefined, KEYWARD_LEAN_LANE: lane },
      });
    }, 240_000);
    afterAll(async () => {
      await server?.stop();
      await db?.close();
      await drop?.();
    });

    it("meters every verify once, from the writer thread's connections, and flushes on SIGTERM", async () => {
      const sent = 1_200;
      let valid = 0;
      for (let round = 0; round < sent / 100; round++) {
        const answers = await Promise.all(
          Array.from({ length: 100 }, () =>
            fetch(`${server.url}/api/v1/keys/verify`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ key: key.key }),
            }).then(async (res) => ({ status: res.status, body: await res.json() })),
          ),
        );
        for (const a of answers) if (a.status === 200 && a.body?.valid === true) valid++;
      }
      expect(valid).toBe(sent);

      // The 1 s timer writes what is buffered; the writes come from the thread's own pool.
      await expect
        .poll(async () => db.prisma.apiKeyUsage.count({ where: { apiKeyId: key.id } }), {
          timeout: 15_000,
          interval: 250,
        })
        .toBeGreaterThan(0);
      const writers = await db.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM pg_stat_activity
      WHERE application_name = 'keyward-usage-writer' AND datname = current_database()`;
      expect(Number(writers[0]?.n)).toBeGreaterThan(0);

      // The last ones are sent right before SIGTERM: acknowledged, so they must be written.
      const last = await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${server.url}/api/v1/keys/verify`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ key: key.key }),
          }).then((res) => res.status),
        ),
      );
      expect(last.every((s) => s === 200)).toBe(true);
      expect(await server.stop("SIGTERM")).toBe(0);

      const total = sent + last.length;
      expect(await db.prisma.apiKeyUsage.count({ where: { apiKeyId: key.id } })).toBe(total);
      const row = await db.prisma.apiKey.findUnique({ where: { id: key.id } });
      expect(row?.requestCount).toBe(BigInt(total));
      const rollup = await db.prisma.usageRollup.aggregate({
        where: { apiKeyId: key.id, level: "KEY", granularity: "DAY" },
        _sum: { requests: true },
      });
      expect(rollup._sum.requests).toBe(BigInt(total));
      expect(server.logs()).not.toContain(key.key);
      expect(server.logs()).not.toMatch(/usage-recorder: .*failed|lost at shutdown/);
    });
  },
);
