// Prisma 7 configuration. The native schema engine cannot be downloaded on our
// machines: migrations run through the wasm engine (scripts/migrate.ts), and
// PRISMA_SCHEMA_ENGINE_BINARY points at a script that fails loudly, so no
// Prisma CLI command can pretend to have migrated anything.
import path from "node:path";
import { defineConfig } from "prisma/config";

if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = path.resolve("scripts/no-schema-engine.sh");
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
