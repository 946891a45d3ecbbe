// The one place that decides between embedded PGlite and a PostgreSQL server.
// Everything else asks getDb() for a PrismaClient and does not know which.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { config } from "@/lib/config";
import { type DatabaseTarget, databaseTarget } from "./config";
import { PrismaClient } from "./generated/client";
import { acquireOwnerLock, type OwnerLock } from "./owner-lock";
import { asPGlite, openPGliteThread, pgliteThreadAvailable } from "./pglite-thread";
import { applyMigrations, pgliteMigrationFactory } from "./schema-engine";

export type { DatabaseTarget } from "./config";
export { Prisma, PrismaClient } from "./generated/client";
export type Db = PrismaClient;
/** A client or an interactive transaction: what repositories take. */
export type Tx = Omit<
  PrismaClient,
  "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends"
>;

export interface OpenDatabase {
  prisma: PrismaClient;
  target: DatabaseTarget;
  /** Present for the embedded database. */
  pglite?: PGlite;
  /** The embedded folder's owner lock (its socket takes operator commands); absent in memory. */
  lock?: OwnerLock;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations after opening (default true). */
  migrate?: boolean;
  /** For embedded: take the owner lock (default true; tests on memory:// skip it). */
  lock?: boolean;
  /**
   * For memory://: start from this data folder (a PGlite `dumpDataDir()` tarball) instead of an
   * empty one. Tests load an already migrated one (tests/helpers/pglite-template.ts).
   */
  loadDataDir?: Blob;
  /**
   * For embedded: a process that opens the database for a few queries and exits (a CLI run, a
   * test's look at the folder). PGlite zeroes PostgreSQL's buffer pool at every start, about
   * 0.5 s of CPU here for the default 128 MB; such a process gets 16 MB. The server keeps 128 MB.
   */
  shortLived?: boolean;
  /**
   * For embedded: run PGlite in a thread of its own (lib/db/pglite-thread.ts), reached through
   * messages; `pglite` is then absent. The server does (KEYWARD_DB_THREAD); other processes
   * open it in process.
   */
  thread?: boolean;
}

/** A short-lived process's buffer pool (OpenOptions.shortLived). */
const SHORT_LIVED_SHARED_BUFFERS = "16MB";

export async function openDatabase(
  target: DatabaseTarget,
  options: OpenOptions = {},
): Promise<OpenDatabase> {
  const migrate = options.migrate ?? true;
  if (target.kind === "postgres") {
    const timeouts = postgresTimeouts();
    // Migrations may run long (an index on a big table): no query timeout for them.
    if (migrate) {
      await applyMigrations(
        new PrismaPg({
          connectionString: target.url,
          max: 2,
          connectionTimeoutMillis: timeouts.connectMs,
        }),
      );
    }
    const pg = new PrismaPg({
      connectionString: target.url,
      max: 10,
      // A dead or unreachable server fails a request within these bounds instead of hanging it:
      // connecting (also waiting for a free pooled connection) and each query's answer.
      connectionTimeoutMillis: timeouts.connectMs,
      query_timeout: timeouts.queryMs,
      keepAlive: true,
    });
    // Key changes lock their organization's row (race-safe active-key limit): under a burst they
    // queue there, so a transaction may wait longer than Prisma's default 2 s to start.
    const prisma = new PrismaClient({
      adapter: pg,
      transactionOptions: { maxWait: 10_000, timeout: 15_000 },
    });
    return { prisma, target, close: () => prisma.$disconnect() };
  }

  const memory = target.dataDir.startsWith("memory://");
  let lock: OwnerLock | undefined;
  if (!memory && options.lock !== false) {
    mkdirSync(target.dataDir, { recursive: true, mode: 0o700 });
    lock = await acquireOwnerLock(target.dataDir);
  }
  const startParams = options.shortLived
    ? [...PGlite.defaultStartParams, ...["-c", `shared_buffers=${SHORT_LIVED_SHARED_BUFFERS}`]]
    : undefined;
  const folder = memory ? target.dataDir : path.join(target.dataDir, "pglite");
  if (options.thread && !memory && pgliteThreadAvailable()) {
    const client = openPGliteThread({ dataDir: folder, startParams });
    try {
      await client.waitReady;
      if (migrate) await applyMigrations(pgliteMigrationFactory(asPGlite(client)));
    } catch (e) {
      await client.close().catch(() => {});
      lock?.release();
      throw e;
    }
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(asPGlite(client)) });
    return {
      prisma,
      target,
      lock,
      async close() {
        await prisma.$disconnect().catch(() => {});
        await client.close().catch(() => {});
        lock?.release();
      },
    };
  }
  try {
    const pglite = new PGlite(folder, {
      ...(memory && options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      ...(startParams ? { startParams } : {}),
    });
    await pglite.waitReady;
    if (migrate) await applyMigrations(pgliteMigrationFactory(pglite));
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    return {
      prisma,
      target,
      pglite,
      lock,
      async close() {
        await prisma.$disconnect().catch(() => {});
        await pglite.close().catch(() => {});
        lock?.release();
      },
    };
  } catch (e) {
    lock?.release();
    throw e;
  }
}

/** DATABASE_CONNECT_TIMEOUT_MS (default 3 s), DATABASE_QUERY_TIMEOUT_MS (default 15 s). */
export function postgresTimeouts(): { connectMs: number; queryMs: number } {
  return {
    connectMs: config().DATABASE_CONNECT_TIMEOUT_MS,
    queryMs: config().DATABASE_QUERY_TIMEOUT_MS,
  };
}

// Next.js bundles route handlers and instrumentation separately, and the
// custom server imports lib/ directly: a module-level singleton would exist
// several times. One open database per process lives on globalThis.
const KEY = Symbol.for("keyward.db");
type Holder = { open?: Promise<OpenDatabase> };
function holder(): Holder {
  const g = globalThis as unknown as Record<symbol, Holder>;
  g[KEY] ??= {};
  return g[KEY];
}

/**
 * The process's database, opened (and for embedded, locked and migrated) on first use. The first
 * caller's options open it (the CLI passes `shortLived`); later callers get that one.
 */
export async function getDatabase(
  options: Pick<OpenOptions, "shortLived" | "thread"> = {},
): Promise<OpenDatabase> {
  const h = holder();
  if (!h.open) {
    h.open = openDatabase(databaseTarget(), options);
    h.open.catch(() => {
      h.open = undefined;
    });
  }
  return h.open;
}

export async function getDb(): Promise<PrismaClient> {
  return (await getDatabase()).prisma;
}

export async function closeDatabase(): Promise<void> {
  const h = holder();
  const open = h.open;
  h.open = undefined;
  if (open) await (await open.catch(() => undefined))?.close();
}
