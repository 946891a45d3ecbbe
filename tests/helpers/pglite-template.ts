// A migrated PGlite made once per set of migrations, so test files start from it instead of
// creating a PGlite (initdb, 5-6 s here) and applying every migration (about 4 s of CPU more)
// each time. It lives under tmp/pglite-template/<hash>/, the hash over the migrations and the
// PGlite version: a new migration makes a new template, nothing stale is ever reused.
//   data.tar  the data folder as PGlite's dumpDataDir() writes it: memory:// databases load it
//   pglite/   the same folder on disk: copied into an embedded data folder (KEYWARD_DATA_DIR)
// vitest's globalSetup (tests/helpers/global-setup.ts) makes it before the first test file;
// anything else that calls these makes it on first use. Two processes making it at once both
// write a folder of their own and rename it into place; the loser's copy is dropped.
import { createHash, randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { openDatabase } from "@/lib/db";

const root = path.resolve(import.meta.dirname, "../..");
const migrationsDir = path.join(root, "prisma/migrations");

function templateHash(): string {
  const h = createHash("sha256");
  const pkg = path.join(root, "node_modules/@electric-sql/pglite/package.json");
  h.update(JSON.parse(readFileSync(pkg, "utf8")).version);
  for (const name of readdirSync(migrationsDir).sort()) {
    const file = path.join(migrationsDir, name, "migration.sql");
    if (!existsSync(file)) continue;
    h.update(`\0${name}\0`);
    h.update(readFileSync(file));
  }
  return h.digest("hex").slice(0, 16);
}

let made: Promise<string> | undefined;

/** The template's folder, made if missing. */
export function pgliteTemplateDir(): Promise<string> {
  made ??= makeTemplate();
  return made;
}

async function makeTemplate(): Promise<string> {
  const dir = path.join(root, "tmp/pglite-template", templateHash());
  if (existsSync(path.join(dir, "data.tar"))) return dir;
  const work = `${dir}.making-${process.pid}-${randomBytes(4).toString("hex")}`;
  mkdirSync(work, { recursive: true });
  try {
    // The real opening path: an embedded folder, migrated by openDatabase as the app does.
    const db = await openDatabase({ kind: "pglite", dataDir: work }, { lock: false });
    try {
      const tar = await db.pglite?.dumpDataDir("none");
      if (!tar) throw new Error("pglite-template: no PGlite to dump");
      writeFileSync(path.join(work, "data.tar"), new Uint8Array(await tar.arrayBuffer()));
    } finally {
      await db.close();
    }
    try {
      renameSync(work, dir);
    } catch (e) {
      // Another process put its template in place first: same migrations, same content.
      if (!existsSync(path.join(dir, "data.tar"))) throw e;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

let tarball: Promise<Blob> | undefined;

/** The migrated data folder as a tarball, for `openDatabase(memory://, { loadDataDir })`. */
export function migratedTarball(): Promise<Blob> {
  tarball ??= pgliteTemplateDir().then(
    (dir) => new Blob([new Uint8Array(readFileSync(path.join(dir, "data.tar")))]),
  );
  return tarball;
}

/**
 * Puts a migrated database into an embedded data folder (KEYWARD_DATA_DIR) that has none yet,
 * as if the app had opened it once: what a server or the CLI then opens skips the migrations.
 */
export async function copyMigratedDatabase(dataDir: string): Promise<void> {
  const target = path.join(dataDir, "pglite");
  if (existsSync(target)) throw new Error(`${target} exists: a template goes into a new folder`);
  cpSync(path.join(await pgliteTemplateDir(), "pglite"), target, { recursive: true });
}
