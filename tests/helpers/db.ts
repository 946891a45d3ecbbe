// One helper gives each test file a fresh database: an in-memory PGlite always,
// and a new database on the PostgreSQL server when DATABASE_URL is set. The PGlite one starts
// from the run's migrated template (pglite-template.ts) rather than creating and migrating one.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type OpenDatabase, openDatabase } from "@/lib/db";
import { migratedTarball } from "./pglite-template";

export type TestDbKind = "pglite" | "postgres";

/** The kinds this run covers: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const testDbKinds: TestDbKind[] = process.env.DATABASE_URL
  ? ["pglite", "postgres"]
  : ["pglite"];

export interface TestDatabase extends OpenDatabase {
  kind: TestDbKind;
  /** For postgres: the URL of this test's own database. */
  url?: string;
}

function serverUrl(database: string): string {
  const url = new URL(process.env.DATABASE_URL as string);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates an empty PostgreSQL database on the DATABASE_URL server; returns its URL and a drop(). */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  // Named with its creation time, so a later run can tell an old leftover from another run's new one.
  const name = `kw_test_${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    url: serverUrl(name),
    async drop() {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      try {
        // Give pools that are still closing (a loop stopped mid-query) up to 10 s to leave. A
        // query that outlived its client's close reconnects (Prisma opens a new pool), so a
        // connection can arrive between the count and the DROP: then wait again.
        let left: { pid: number; state: string | null; query: string }[] = [];
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          ({ rows: left } = await c.query(
            "SELECT pid, state, left(query, 120) AS query FROM pg_stat_activity WHERE datname = $1",
            [name],
          ));
          if (left.length === 0) {
            try {
              await c.query(`DROP DATABASE IF EXISTS "${name}"`);
              return;
            } catch (e) {
              // 55006: "being accessed by other users", one came in just now.
              if ((e as { code?: string }).code !== "55006") throw e;
            }
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        // Never WITH (FORCE): it terminates those connections, and a client of this process that
        // gets the 57P01 with no error listener is an uncaught error that fails the whole run.
        // The database is left, said here, and dropped by a later run's global setup
        // (dropLeftoverDatabases) once nothing holds it.
        console.warn(
          `test database ${name} left for a later run: ${left.length} connection(s) still open: ${JSON.stringify(left)}`,
        );
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Drops the test databases (kw_test_<seconds>_*) an earlier run left on the DATABASE_URL server
 * because a connection still held them (createPostgresDatabase's drop): those made over an hour
 * ago that nothing is connected to (a run beside this one may have just made one).
 */
export async function dropLeftoverDatabases(): Promise<void> {
  if (!process.env.DATABASE_URL) return;
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database d WHERE datname LIKE 'kw\\_test\\_%' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    );
    const hourAgo = Date.now() / 1000 - 3600;
    for (const { datname } of rows) {
      const made = Number(datname.split("_")[2]);
      if (!(made < hourAgo)) continue;
      await c.query(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => {});
    }
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(kind: TestDbKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    const db = await openDatabase(
      { kind: "pglite", dataDir: "memory://" },
      // A test file's database holds a few rows: the small buffer pool opens faster (lib/db).
      { loadDataDir: await migratedTarball(), shortLived: true },
    );
    return { ...db, kind };
  }
  const { url, drop } = await createPostgresDatabase();
  const db = await openDatabase({ kind: "postgres", url });
  return {
    ...db,
    kind,
    url,
    async close() {
      await db.close();
      await drop();
    },
  };
}
