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
  const name = `kw_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    url: serverUrl(name),
    async drop() {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      // Give pools that are still closing (a loop stopped mid-query) up to 10 s to leave first:
      // FORCE terminates them, and a terminated idle client without an error listener in this
      // process is an uncaught 57P01 that fails the whole run.
      for (let i = 0; i < 100; i++) {
        const { rows } = await c.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
          [name],
        );
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
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
