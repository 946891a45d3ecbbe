// The committed migrations must produce exactly schema.prisma, and the wasm
// schema engine must be the build of the engines prisma itself was made with.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { pendingSchemaDiff } from "@/lib/db/schema-engine";

const require = createRequire(import.meta.url);

describe("migrations", () => {
  it("prisma/migrations and schema.prisma agree", async () => {
    const sql = await pendingSchemaDiff();
    expect(
      sql,
      `schema.prisma has changes no migration holds; run npm run db:migration:create -- <name>:\n${sql}`,
    ).toBe("");
  });

  it("the wasm schema engine matches @prisma/engines-version", () => {
    const engines = require("@prisma/engines-version/package.json").prisma.enginesVersion as string;
    const wasmPkg = JSON.parse(
      readFileSync(
        require
          .resolve("@prisma/schema-engine-wasm/schema_engine_bg")
          .replace(/schema_engine_bg\.js$/, "package.json"),
        "utf8",
      ),
    );
    expect(wasmPkg.version.split(".").at(-1).split("-").at(-1)).toBe(engines);
    const prismaVersion = require("prisma/package.json").version as string;
    expect(wasmPkg.version.startsWith(`${prismaVersion}-`)).toBe(true);
    expect(require("@prisma/client/package.json").version).toBe(prismaVersion);
  });

  it("every migration is in Prisma's own layout", async () => {
    const { listMigrations } = await import("@/lib/db/schema-engine");
    const list = await listMigrations();
    expect(list.lockfile.content).toContain('provider = "postgresql"');
    expect(list.migrationDirectories.length).toBeGreaterThan(0);
    for (const dir of list.migrationDirectories) {
      expect(dir.path).toMatch(/^\d{14}_[a-z0-9_]+$/);
      expect(dir.migrationFile.content.tag).toBe("ok");
    }
  });
});
