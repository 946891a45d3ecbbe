// applyMigrations skips the schema engine when the database records every migration as applied
// (one query): every CLI run, server start and test database relies on it (the run's migrated
// template, tests/helpers/pglite-template.ts). A database one migration behind must still get it.
// lib/db/schema-engine reads prisma/ under the working directory it was loaded in (once per
// process: its wasm engine loads once), so this file loads it in a scratch checkout whose
// prisma/ it changes between steps, before anything else imports it (lib/db does).
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const from = path.join(root, "prisma");
const migrations = readdirSync(path.join(from, "migrations"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const latest = migrations.at(-1) as string;
const checkout = mkdtempSync(path.join(os.tmpdir(), "kw-migrations-"));
const to = path.join(checkout, "prisma");

function addMigrations(names: string[]): void {
  for (const m of names) {
    cpSync(path.join(from, "migrations", m), path.join(to, "migrations", m), { recursive: true });
  }
}

let engine: typeof import("@/lib/db/schema-engine");
beforeAll(async () => {
  mkdirSync(path.join(to, "migrations"), { recursive: true });
  cpSync(path.join(from, "schema.prisma"), path.join(to, "schema.prisma"));
  const lock = "migrations/migration_lock.toml";
  cpSync(path.join(from, lock), path.join(to, lock));
  process.chdir(checkout);
  try {
    engine = await import("@/lib/db/schema-engine");
  } finally {
    process.chdir(root);
  }
});
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

describe("applyMigrations' fast path", () => {
  it("applies the missing migration to a database one behind, then skips", async () => {
    // A checkout one migration behind: every migration but the latest.
    addMigrations(migrations.slice(0, -1));
    const db = new PGlite();
    try {
      const factory = engine.pgliteMigrationFactory(db);
      expect(await engine.applyMigrations(factory)).toEqual(migrations.slice(0, -1));
      addMigrations([latest]);
      expect(await engine.applyMigrations(factory)).toEqual([latest]);
      expect(await engine.applyMigrations(factory)).toEqual([]);
    } finally {
      await db.close();
    }
  }, 240_000);

  it("skips the engine for an up-to-date database: no schema.prisma needed", async () => {
    addMigrations(migrations);
    // The engine reads schema.prisma first: without one, only the fast path can answer.
    rmSync(path.join(to, "schema.prisma"));
    const { migratedTarball } = await import("../helpers/pglite-template");
    const template = new PGlite({ loadDataDir: await migratedTarball() });
    try {
      expect(await engine.applyMigrations(engine.pgliteMigrationFactory(template))).toEqual([]);
      // The same database missing the latest's record goes to the engine, which needs the schema.
      await template.query("DELETE FROM _prisma_migrations WHERE migration_name = $1", [latest]);
      await expect(engine.applyMigrations(engine.pgliteMigrationFactory(template))).rejects.toThrow(
        /schema\.prisma|ENOENT/,
      );
    } finally {
      await template.close();
    }
  });
});
