// A `.env` in the working directory is read by `npm start`, the CLI and migrations before
// anything opens a database; variables in the real environment win over it. Each test runs
// the real scripts as their own processes, from a working directory of their own.
import { existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../helpers/db";
import { appWorkingDir, CLI_ENTRY, runCli, startServer, tempDataDir } from "../helpers/server";

/** Nothing from the test runner's own environment that .env is meant to supply. */
const bare = {
  DATABASE_URL: undefined,
  REDIS_URL: undefined,
  RATE_LIMIT_STORE: undefined,
  KEYWARD_DATA_DIR: undefined,
};

describe(".env in the working directory", { timeout: 240_000 }, () => {
  it("is checked by the CLI and by npm start: a bad value there fails in one line naming it", async () => {
    const cwd = appWorkingDir({ ".env": "# operator settings\nPORT=99999\n" });
    const noPort = { ...bare, PORT: undefined };
    const cli = await runCli(["help"], noPort, { cwd, script: CLI_ENTRY });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe(
      'keyward: configuration: PORT must be a port number from 1 to 65535 (got "99999")\n',
    );
    // The real environment wins over .env.
    expect(
      (await runCli(["help"], { ...bare, PORT: "4000" }, { cwd, script: CLI_ENTRY })).code,
    ).toBe(0);

    const server = await startServer({ cwd, env: noPort, expectExit: true });
    expect(await server.exited).toBe(1);
    expect(server.logs().trim().split("\n")).toEqual([
      'keyward: configuration: PORT must be a port number from 1 to 65535 (got "99999")',
    ]);
    expect(existsSync(path.join(cwd, ".data"))).toBe(false);
  });

  it("KEYWARD_DATA_DIR there is where the CLI keeps the embedded database", async () => {
    const dataDir = path.join(tempDataDir(), "from-dotenv");
    const cwd = appWorkingDir({ ".env": `KEYWARD_DATA_DIR=${dataDir}\n` });
    const r = await runCli(
      ["org:create", "--name", "Dotenv", "--email", "dotenv@example.com", "--json"],
      bare,
      { cwd, script: CLI_ENTRY },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).slug).toBe("dotenv");
    expect(existsSync(path.join(dataDir, "pglite"))).toBe(true);
    expect(existsSync(path.join(cwd, ".data"))).toBe(false);
  });

  it.runIf(process.env.DATABASE_URL)(
    "DATABASE_URL there is used by migrations, npm start and the CLI: PostgreSQL, no embedded folder",
    async () => {
      const db = await createPostgresDatabase();
      const cwd = appWorkingDir({ ".env": `DATABASE_URL=${db.url}\n` });
      const client = new pg.Client({ connectionString: db.url });
      let server: Awaited<ReturnType<typeof startServer>> | undefined;
      try {
        const migrated = await runCli(["apply"], bare, { cwd, script: "scripts/migrate.ts" });
        expect(migrated.code, migrated.stderr).toBe(0);
        expect(migrated.stdout).toMatch(/^applied /);

        server = await startServer({ cwd, env: bare });
        expect(server.logs()).toContain("(PostgreSQL)");
        const r = await runCli(
          ["org:create", "--name", "Over PG", "--email", "pg@example.com", "--json"],
          bare,
          { cwd, script: CLI_ENTRY },
        );
        expect(r.code, r.stderr).toBe(0);
        const org = JSON.parse(r.stdout);

        await client.connect();
        const rows = await client.query(`SELECT slug FROM "Organization" WHERE id = $1`, [org.id]);
        expect(rows.rows).toEqual([{ slug: org.slug }]);
        const applied = await client.query(`SELECT count(*)::int AS n FROM _prisma_migrations`);
        expect(applied.rows[0].n).toBeGreaterThan(0);
        // The app answers from the same database.
        const health = await fetch(`${server.url}/api/v1/health`);
        expect(health.status).toBe(200);
        expect(existsSync(path.join(cwd, ".data"))).toBe(false);
      } finally {
        await server?.stop();
        await client.end().catch(() => {});
        await db.drop();
      }
    },
  );
});
