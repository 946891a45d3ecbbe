// The embedded database in a thread of its own (lib/db/pglite-thread.ts), as the server opens it:
// results, errors and transactions must be what PGlite gives in process, concurrency must stay
// exact, and a thread that dies must fail queries at once rather than hang them.
import { rmSync } from "node:fs";
import path from "node:path";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenDatabase, openDatabase, PrismaClient } from "@/lib/db";
import { isDatabaseUnavailable } from "@/lib/db/errors";
import { asPGlite, openPGliteThread } from "@/lib/db/pglite-thread";
import { migratedDataDir, tempDataDir } from "@/tests/helpers/server";

const ORG = {
  name: "Thread Org",
  email: "thread@example.test",
  rateLimitPerMinute: 60,
  monthlyQuota: 1000,
  maxActiveKeys: 5,
};

// Every type the schema and the raw statements read, including arrays of an enum (a type PGlite
// finds in the database at start) and NULLs.
const TYPED = `SELECT 9007199254740993::int8 AS big, 12345.678901::numeric AS num,
  '2026-12-02 10:11:12.345'::timestamp(3) AS ts, '2026-12-02 10:11:12.345+01'::timestamptz AS tstz,
  '2026-12-02'::date AS d,
  ARRAY[1, 2, NULL]::int[] AS ints, ARRAY[3, 4]::int8[] AS bigs, '{"x": [1, "y"]}'::jsonb AS j,
  '\\x00ff10'::bytea AS bytes, NULL::text AS nothing,
  ARRAY['ACTIVE', 'REVOKED']::"KeyStatus"[] AS statuses, 'ACTIVE'::"KeyStatus" AS status,
  ARRAY['a', 'b,c', 'd"e']::text[] AS texts, 1.5::float8 AS f`;

describe("PGlite in a thread (KEYWARD_DB_THREAD)", () => {
  let dataDir: string;
  let db: OpenDatabase;

  beforeAll(async () => {
    dataDir = await migratedDataDir();
    db = await openDatabase({ kind: "pglite", dataDir }, { thread: true });
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers a raw query with the values PGlite gives in process", async () => {
    const viaThread = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(TYPED);
    const otherDir = await migratedDataDir();
    const inProcess = await openDatabase(
      { kind: "pglite", dataDir: otherDir },
      { shortLived: true },
    );
    try {
      expect(inProcess.pglite).toBeDefined();
      expect(db.pglite).toBeUndefined();
      const direct = await inProcess.prisma.$queryRawUnsafe<Record<string, unknown>[]>(TYPED);
      expect(viaThread).toEqual(direct);
      const row = viaThread[0];
      expect(row.big).toBe(9007199254740993n);
      expect(String(row.num)).toBe("12345.678901");
      expect((row.ts as Date).toISOString()).toBe("2026-12-02T10:11:12.345Z");
      expect((row.tstz as Date).toISOString()).toBe("2026-12-02T09:11:12.345Z");
      expect(row.ints).toEqual([1, 2, null]);
      expect(row.bigs).toEqual([3n, 4n]);
      expect(row.j).toEqual({ x: [1, "y"] });
      expect(Buffer.from(row.bytes as Uint8Array).toString("hex")).toBe("00ff10");
      expect(row.nothing).toBeNull();
      expect(row.statuses).toEqual(["ACTIVE", "REVOKED"]);
      expect(row.status).toBe("ACTIVE");
      expect(row.texts).toEqual(["a", "b,c", 'd"e']);
      expect(row.f).toBe(1.5);
    } finally {
      await inProcess.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("maps database errors as before: a unique violation is P2002", async () => {
    const slug = `thread-${Date.now()}`;
    await db.prisma.organization.create({ data: { ...ORG, slug } });
    await expect(
      db.prisma.organization.create({ data: { ...ORG, slug, email: "other@example.test" } }),
    ).rejects.toMatchObject({ code: "P2002" });
    // A raw statement's error keeps its SQLSTATE.
    await expect(db.prisma.$executeRawUnsafe("SELECT 1/0")).rejects.toThrow(/division by zero/);
  });

  it("commits, rolls back on a throw, and keeps concurrent increments exact", async () => {
    const slug = `thread-tx-${Date.now()}`;
    const org = await db.prisma.organization.create({
      data: { ...ORG, slug, email: `${slug}@example.test` },
    });
    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.organization.update({ where: { id: org.id }, data: { name: "changed" } });
        throw new Error("abandon");
      }),
    ).rejects.toThrow("abandon");
    expect((await db.prisma.organization.findUniqueOrThrow({ where: { id: org.id } })).name).toBe(
      ORG.name,
    );

    // 40 interactive transactions, each reading then writing: one at a time, none lost.
    await Promise.all(
      Array.from({ length: 40 }, () =>
        db.prisma.$transaction(async (tx) => {
          const o = await tx.organization.findUniqueOrThrow({ where: { id: org.id } });
          await tx.organization.update({
            where: { id: org.id },
            data: { maxActiveKeys: o.maxActiveKeys + 1 },
          });
        }),
      ),
    );
    const after = await db.prisma.organization.findUniqueOrThrow({ where: { id: org.id } });
    expect(after.maxActiveKeys).toBe(ORG.maxActiveKeys + 40);
  });

  it("a clean close waits for queued work; a thread that is gone fails queries at once", async () => {
    const dir = await migratedDataDir();
    const client = openPGliteThread({ dataDir: path.join(dir, "pglite") });
    try {
      await client.waitReady;
      const queued = client.query("SELECT pg_sleep(0.3), 3 AS three");
      await client.close();
      await expect(queued).resolves.toMatchObject({ rows: [{ three: 3 }] });
      await expect(client.query("SELECT 1")).rejects.toThrow(/closed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("fails every query at once when the thread is gone, instead of hanging", async () => {
    const dir = await migratedDataDir();
    const client = openPGliteThread({ dataDir: path.join(dir, "pglite") });
    try {
      await client.waitReady;
      expect(await client.query("SELECT 1 AS one")).toMatchObject({ rows: [{ one: 1 }] });
      // A clean close lets what is queued finish first.
      const queued = client.query("SELECT pg_sleep(0.2), 2 AS two");
      const started = Date.now();
      const stuck = client.query("SELECT pg_sleep(30)");
      // A thread that is gone fails what is in flight and what comes after, at once.
      await expect(queued).resolves.toMatchObject({ rows: [{ two: 2 }] });
      const refused = expect(stuck).rejects.toThrow(/stopped/);
      const prisma = new PrismaClient({ adapter: new PrismaPGlite(asPGlite(client)) });
      await client.terminate();
      await refused;
      await expect(client.query("SELECT 1")).rejects.toThrow(/stopped/);
      // As the database's failure: through Prisma it is a 503 DEPENDENCY_UNAVAILABLE, not a 500.
      const viaPrisma = await prisma.organization.count().catch((e: unknown) => e);
      expect(viaPrisma).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(viaPrisma)).toBe(true);
      const viaRaw = await prisma.$queryRawUnsafe("SELECT 1").catch((e: unknown) => e);
      expect(isDatabaseUnavailable(viaRaw)).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
      await client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("a folder that cannot be opened fails waitReady with the reason", async () => {
    const client = openPGliteThread({ dataDir: path.join(tempDataDir(), "missing", "\0bad") });
    await expect(client.waitReady).rejects.toThrow();
    await client.close();
  });

  it("opens a fresh folder, migrates it in the thread, and the folder opens in process after", async () => {
    const dir = tempDataDir();
    try {
      const fresh = await openDatabase({ kind: "pglite", dataDir: dir }, { thread: true });
      await fresh.prisma.organization.create({
        data: { ...ORG, slug: "fresh", email: "fresh@example.test" },
      });
      await fresh.close();
      const again = await openDatabase({ kind: "pglite", dataDir: dir }, { shortLived: true });
      try {
        expect(await again.prisma.organization.count({ where: { slug: "fresh" } })).toBe(1);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
