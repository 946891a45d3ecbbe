// Migrations without the native engine: create / apply / status / check.
//   npm run db:migration:create -- <name>   write prisma/migrations/<stamp>_<name>
//   npm run db:migrate                      apply to DATABASE_URL, or the embedded folder
//   npm run db:migration:status             what is applied, what is pending
//   tsx scripts/migrate.ts check            exit 1 when schema.prisma and migrations disagree

import { PrismaPg } from "@prisma/adapter-pg";
import { config } from "@/lib/config";
import { databaseTarget } from "@/lib/db/config";
import { createMigration, migrationStatus, pendingSchemaDiff } from "@/lib/db/schema-engine";

async function main() {
  config(); // loads .env and fails in one line on a bad setting, before any database work
  const [cmd, name] = process.argv.slice(2);
  switch (cmd) {
    case "create": {
      if (!name) throw new Error("usage: npm run db:migration:create -- <name>");
      const dir = await createMigration(name);
      console.log(
        dir ? `created ${dir}` : "schema.prisma and the migrations agree: nothing to create",
      );
      return;
    }
    case "check": {
      const sql = await pendingSchemaDiff();
      if (sql) {
        console.error(
          "schema.prisma differs from prisma/migrations; run npm run db:migration:create -- <name>:",
        );
        console.error(sql);
        process.exit(1);
      }
      console.log("schema.prisma and prisma/migrations agree");
      return;
    }
    case "apply":
    case "status": {
      const target = databaseTarget();
      if (target.kind === "postgres") {
        const factory = new PrismaPg({ connectionString: target.url });
        if (cmd === "status") {
          console.log(JSON.stringify(await migrationStatus(factory), null, 2));
        } else {
          const { applyMigrations } = await import("@/lib/db/schema-engine");
          const applied = await applyMigrations(factory);
          console.log(applied.length ? `applied ${applied.join(", ")}` : "database is up to date");
        }
        return;
      }
      // Embedded: go through the CLI so a running app (the folder's owner) does it.
      const { runCli } = await import("@/lib/cli/main");
      process.exit(await runCli(["db:migrate"]));
      return;
    }
    default:
      throw new Error("usage: tsx scripts/migrate.ts create <name> | apply | status | check");
  }
}

main().catch((e) => {
  console.error(`keyward: ${(e as Error).message}`);
  process.exit(1);
});
