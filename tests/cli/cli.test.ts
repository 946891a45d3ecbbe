// The command line on its own (no app running): it owns the embedded folder for
// its run. Good input does what it says; bad input exits non-zero with one line
// and changes nothing. Runs against PostgreSQL too when DATABASE_URL is set.
// The first command of each target runs the operator's entry as its own process (`tsx
// scripts/cli.ts`, what `npm run keyward` runs: configuration, owner lookup, lock, exit code).
// The rest run the same commands in this process, on the database this file opens once per
// target (`executeCommand`, what that entry calls after those steps), so the cases share one
// open folder instead of starting a process and opening PGlite each (about 2 s of CPU apiece).
// tests/owner/embedded-owner.test.ts and tests/config/dotenv.test.ts run the CLI as a process
// against a running server and an empty folder.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerWithoutDatabase, executeCommand } from "@/lib/cli/commands";
import { closeDatabase, getDatabase } from "@/lib/db";
import { createPostgresDatabase } from "../helpers/db";
import { CLI_ENTRY, migratedDataDir, runCli, tempDataDir } from "../helpers/server";

type Target = {
  name: string;
  env: Record<string, string | undefined>;
  drop?(): Promise<void>;
};

const targets: (() => Promise<Target>)[] = [
  async () => {
    // The run's migrated database (the CLI on an empty folder: tests/config/dotenv.test.ts).
    const dataDir = await migratedDataDir();
    return {
      name: "embedded",
      env: { KEYWARD_DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined },
    };
  },
];
if (process.env.DATABASE_URL) {
  targets.push(async () => {
    const { url, drop } = await createPostgresDatabase();
    return {
      name: "postgres",
      env: { DATABASE_URL: url, KEYWARD_DATA_DIR: tempDataDir(), REDIS_URL: undefined },
      drop,
    };
  });
}

/** Sets these variables (undefined: unset) and returns what puts the old values back. */
function setEnv(env: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const apply = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(env);
  return () => apply(saved);
}

describe.each(targets.map((t, i) => [i === 0 ? "embedded" : "postgres", t] as const))(
  "CLI on %s",
  (_name, make) => {
    let target: Target;
    let restoreEnv: (() => void) | undefined;
    /** A command as the CLI runs it once it owns the database: its exit code and output. */
    const cli = async (...args: string[]) =>
      answerWithoutDatabase(args) ?? (await executeCommand(args, { via: "local" }));
    /** The database this file opened for the target (the one the commands use). */
    const open = async () => (await getDatabase()).prisma;
    /** Snapshot of every table's row count: bad input must change none. */
    async function counts() {
      const p = await open();
      return {
        orgs: await p.organization.count(),
        users: await p.user.count(),
        keys: await p.apiKey.count(),
        audit: await p.auditLog.count(),
        services: await p.serviceCredential.count(),
      };
    }

    beforeAll(async () => {
      target = await make();
      // The operator's own entry, through tsx, as `npm run keyward` runs it.
      const tsxCli = (...args: string[]) => runCli(args, target.env, { script: CLI_ENTRY });
      const r = await tsxCli(
        "org:create",
        "--name",
        "Demo Co",
        "--email",
        "owner@demo.test",
        "--plan",
        "PRO",
        "--json",
      );
      expect(r.code, r.stderr).toBe(0);
      // From here on this process owns the target, as the CLI process did for its run.
      restoreEnv = setEnv(target.env);
      await getDatabase({ shortLived: true });
    }, 120_000);
    afterAll(async () => {
      await closeDatabase();
      restoreEnv?.();
      await target?.drop?.();
    });

    it("org:create --json prints the organization at the top level", async () => {
      const r = await cli(
        "org:create",
        "--name",
        "Second Org",
        "--email",
        "second@demo.test",
        "--json",
      );
      expect(r.code, r.stderr).toBe(0);
      const org = JSON.parse(r.stdout);
      expect(org).toMatchObject({ slug: "second-org", name: "Second Org", plan: "FREE" });
      expect(org.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("keys:create prints the key once; the database holds its SHA-256 and hint, never the key", async () => {
      const r = await cli(
        "keys:create",
        "--org",
        "demo-co",
        "--name",
        "x",
        "--env",
        "test",
        "--scopes",
        "keys:read",
        "--json",
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.key).toMatch(/^pk_test_[A-Za-z0-9_-]{43}$/);
      expect(out).toMatchObject({
        environment: "test",
        scopes: ["keys:read"],
        hint: out.key.slice(-4),
      });
      const db = { prisma: await open() };
      const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: out.id } });
      expect(row.keyHash).toBe(createHash("sha256").update(out.key).digest("hex"));
      expect(row.hint).toBe(out.key.slice(-4));
      // No column of any key row, nor any audit row, holds the plaintext.
      const everything = JSON.stringify(
        [await db.prisma.apiKey.findMany(), await db.prisma.auditLog.findMany()],
        (_k, v) => (typeof v === "bigint" ? Number(v) : v),
      );
      expect(everything).not.toContain(out.key);
      expect(everything).not.toContain(out.key.slice(8));
    });

    it("keys:create --rate-limit may go past the plan (the operator's right alone)", async () => {
      // demo-co is on PRO: 1,000 requests per minute per key; the dashboard and keys stop there.
      const r = await cli(
        "keys:create",
        "--org",
        "demo-co",
        "--name",
        "bulk-importer",
        "--env",
        "live",
        "--rate-limit",
        "250000",
        "--json",
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.rateLimitPerMinute).toBe(250_000);
      const db = { prisma: await open() };
      const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: out.id } });
      const org = await db.prisma.organization.findUniqueOrThrow({
        where: { id: row.organizationId },
      });
      expect(org.rateLimitPerMinute).toBe(1_000);
      expect(row.rateLimitPerMinute).toBe(250_000);
    });

    it("keys:create and keys:update take credits and a spend limit; bad values change nothing", async () => {
      const r = await cli(
        "keys:create",
        ...["--org", "demo-co", "--name", "metered", "--env", "live"],
        ...["--credits", "3", "--refill", "10", "--refill-every", "day", "--spend-limit", "25.5"],
        "--json",
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.credits).toEqual({ remaining: 3, refill: { amount: 10, interval: "day" } });
      expect(out.spendLimitUsd).toBe("25.500000");
      const before = await counts();
      for (const bad of [
        ["--credits", "-1"],
        ["--credits", "lots"],
        ["--credits", "5", "--refill", "0"],
        ["--credits", "5", "--refill-every", "week"],
        ["--spend-limit", "0"],
        ["--spend-limit", "12.1234567"],
      ]) {
        const e = await cli("keys:update", "--org", "demo-co", "--id", out.id, ...bad);
        expect(e.code, bad.join(" ")).not.toBe(0);
        expect(e.stderr.trim().split("\n")).toHaveLength(1);
      }
      expect(await counts()).toEqual(before);
      const u = await cli(
        "keys:update",
        ...["--org", "demo-co", "--id", out.id, "--credits", "7", "--spend-limit", "none"],
        "--json",
      );
      expect(u.code, u.stderr).toBe(0);
      expect(JSON.parse(u.stdout)).toMatchObject({
        credits: { remaining: 7, refill: null },
        spendLimitUsd: null,
      });
    }, 300_000);

    it("keys:list and keys:revoke", async () => {
      const created = JSON.parse(
        (
          await cli(
            "keys:create",
            "--org",
            "demo-co",
            "--name",
            "to-revoke",
            "--env",
            "live",
            "--json",
          )
        ).stdout,
      );
      const revoked = await cli("keys:revoke", "--id", created.id, "--reason", "leaked", "--json");
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: created.id, status: "revoked" });
      const list = JSON.parse((await cli("keys:list", "--org", "demo-co", "--json")).stdout);
      const mine = list.keys.find((k: { id: string }) => k.id === created.id);
      expect(mine).toMatchObject({ status: "revoked", name: "to-revoke" });
      const revokedOnly = JSON.parse(
        (await cli("keys:list", "--org", "demo-co", "--status", "revoked", "--json")).stdout,
      );
      expect(revokedOnly.keys.map((k: { id: string }) => k.id)).toContain(created.id);
      expect(revokedOnly.keys.every((k: { status: string }) => k.status === "revoked")).toBe(true);
      expect(JSON.stringify(list)).not.toMatch(/pk_(live|test)_[A-Za-z0-9_-]{43}/);
    }, 180_000); // four CLI runs, each opening the embedded folder

    it("service:create prints the credential once (SHA-256 and hint stored); list and revoke", async () => {
      const r = await cli("service:create", "--name", "ingest", "--org", "demo-co", "--json");
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(Object.keys(out).sort()).toEqual(["id", "name", "organization", "scopes", "secret"]);
      expect(out).toMatchObject({
        name: "ingest",
        scopes: ["usage:report"],
        organization: "demo-co",
      });
      expect(out.secret).toMatch(/^ksvc_[A-Za-z0-9_-]{43}$/);
      const all = await cli("service:create", "--name", "all-orgs");
      expect(all.code, all.stderr).toBe(0);
      const [secret, note] = all.stdout.trim().split("\n");
      expect(secret).toMatch(/^ksvc_[A-Za-z0-9_-]{43}$/);
      expect(note).toMatch(/shown once.*usage:report, every organization/);

      const list = await cli("service:list", "--json");
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).not.toMatch(/ksvc_[A-Za-z0-9_-]{43}/);
      const listed = JSON.parse(list.stdout).serviceCredentials;
      expect(listed.map((c: { name: string }) => c.name).slice(0, 2)).toEqual([
        "all-orgs",
        "ingest",
      ]);
      expect(listed[1]).toMatchObject({ id: out.id, status: "active", hint: out.secret.slice(-4) });

      const revoked = await cli("service:revoke", "--id", out.id, "--json");
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: out.id, status: "revoked" });

      const db = { prisma: await open() };
      const row = await db.prisma.serviceCredential.findUniqueOrThrow({ where: { id: out.id } });
      expect(row.secretHash).toBe(createHash("sha256").update(out.secret).digest("hex"));
      expect(row.revokedAt).not.toBeNull();
      // Audited in the organization it is held to (one covering all has no organization).
      const audit = await db.prisma.auditLog.findMany({ where: { targetId: out.id } });
      expect(audit.map((a) => a.action).sort()).toEqual([
        "service_credential.created",
        "service_credential.revoked",
      ]);
      const everything = JSON.stringify([
        await db.prisma.serviceCredential.findMany(),
        await db.prisma.auditLog.findMany(),
      ]);
      for (const s of [out.secret, secret!]) expect(everything).not.toContain(s.slice(5));
    }, 300_000);

    it("user:create adds a member who can sign in", async () => {
      const r = await cli(
        "user:create",
        "--email",
        "ada@demo.test",
        "--password",
        "correct horse battery",
        "--org",
        "demo-co",
        "--role",
        "ADMIN",
        "--json",
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ email: "ada@demo.test", role: "ADMIN" });
      expect(r.stdout).not.toContain("correct horse battery");
    });

    // One snapshot of every table's row count around the bad-input cases (opening the database
    // twice per case cost about 3 s of CPU each): each case checks its own answer, the first takes
    // the snapshot before it runs, and the test after them checks that none changed a row.
    let beforeBadInput: Awaited<ReturnType<typeof counts>> | undefined;
    it.each([
      [
        "unknown org",
        ["keys:create", "--org", "nope", "--name", "x", "--env", "test"],
        /organization/i,
      ],
      ["bad email", ["org:create", "--name", "Xy", "--email", "not-an-email"], /email/i],
      [
        "bad environment",
        ["keys:create", "--org", "demo-co", "--name", "x", "--env", "prod"],
        /--env/,
      ],
      [
        "duplicate slug",
        ["org:create", "--name", "Demo Co", "--email", "other@demo.test", "--slug", "demo-co"],
        /slug|exists/i,
      ],
      [
        "duplicate email",
        ["org:create", "--name", "Other", "--email", "owner@demo.test"],
        /email|exists/i,
      ],
      ["missing flag", ["keys:create", "--org", "demo-co", "--env", "test"], /--name/],
      // The same text and number rules as the API and the dashboard (lib/validation). A NUL
      // cannot travel in argv; control characters and lone-surrogate replacements can.
      [
        "control character in a key name",
        ["keys:create", "--org", "demo-co", "--name", "bell\u0007", "--env", "test"],
        /--name: .*control/,
      ],
      [
        "line break in a key name",
        ["keys:create", "--org", "demo-co", "--name", "two\nlines", "--env", "test"],
        /--name: .*control/,
      ],
      [
        "key name too long",
        ["keys:create", "--org", "demo-co", "--name", "x".repeat(101), "--env", "test"],
        /--name/,
      ],
      [
        "rate limit past the 32-bit column",
        [
          "keys:create",
          "--org",
          "demo-co",
          "--name",
          "x",
          "--env",
          "test",
          "--rate-limit",
          "2147483648",
        ],
        /--rate-limit/,
      ],
      [
        "fractional rate limit",
        ["keys:create", "--org", "demo-co", "--name", "x", "--env", "test", "--rate-limit", "1.5"],
        /--rate-limit/,
      ],
      [
        "bad scope",
        [
          "keys:create",
          "--org",
          "demo-co",
          "--name",
          "x",
          "--env",
          "test",
          "--scopes",
          "a:b,\u001B[2J",
        ],
        /--scopes/,
      ],
      [
        "expiry past year 9999",
        [
          "keys:create",
          "--org",
          "demo-co",
          "--name",
          "x",
          "--env",
          "test",
          "--expires",
          "+275760-01-01",
        ],
        /--expires/,
      ],
      [
        "organization slug with a control character",
        ["keys:list", "--org", "demo-co\u0001"],
        /--org/,
      ],
      [
        "organization name with a control character",
        ["org:create", "--name", "Evil\u001B[31m Co", "--email", "evil@demo.test"],
        /--name/,
      ],
      [
        "chosen slug not usable",
        ["org:create", "--name", "Slug Co", "--email", "slug@demo.test", "--slug", "Bad Slug"],
        /--slug/,
      ],
      [
        "reason with an escape sequence",
        ["keys:revoke", "--id", "00000000-0000-4000-8000-000000000000", "--reason", "x\u001B[2J"],
        /--reason/,
      ],
      [
        "user name with a control character",
        [
          "user:create",
          "--email",
          "d@demo.test",
          "--password",
          "0123456789ab",
          "--org",
          "demo-co",
          "--name",
          "bad\u0008",
        ],
        /--name/,
      ],
      ["unknown flag", ["keys:list", "--org", "demo-co", "--bogus", "1"], /bogus/],
      [
        "status in capitals",
        ["keys:list", "--org", "demo-co", "--status", "ACTIVE"],
        /--status.*active, revoked or expired/,
      ],
      ["unknown command", ["keys:destroy"], /unknown command/],
      ["bad key id", ["keys:revoke", "--id", "123", "--reason", "x"], /--id/],
      [
        "unknown key id",
        ["keys:revoke", "--id", "00000000-0000-4000-8000-000000000000", "--reason", "x"],
        /not exist|not found/i,
      ],
      ["service credential without a name", ["service:create"], /--name/],
      [
        "service credential with a key's scope",
        ["service:create", "--name", "x", "--scopes", "keys:write"],
        /--scopes/,
      ],
      [
        "service credential with a repeated scope",
        ["service:create", "--name", "x", "--scopes", "usage:report,usage:report"],
        /--scopes/,
      ],
      [
        "service credential for an unknown organization",
        ["service:create", "--name", "x", "--org", "nope"],
        /organization/i,
      ],
      [
        "service credential name with a control character",
        ["service:create", "--name", "bell\u0007"],
        /--name: .*control/,
      ],
      ["bad service credential id", ["service:revoke", "--id", "123"], /--id/],
      [
        "unknown service credential id",
        ["service:revoke", "--id", "00000000-0000-4000-8000-000000000000"],
        /not exist/i,
      ],
      [
        "bad role",
        [
          "user:create",
          "--email",
          "b@demo.test",
          "--password",
          "0123456789ab",
          "--org",
          "demo-co",
          "--role",
          "GOD",
        ],
        /--role/,
      ],
      [
        "short password",
        ["user:create", "--email", "c@demo.test", "--password", "short", "--org", "demo-co"],
        /--password/,
      ],
    ])("%s exits non-zero with one line", async (_label, args, reason) => {
      beforeBadInput ??= await counts();
      const r = await cli(...args);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^keyward: /);
      expect(lines[0]).toMatch(reason);
    });

    it("none of the bad inputs above changed a row", async () => {
      expect(beforeBadInput).toBeDefined();
      expect(await counts()).toEqual(beforeBadInput);
    });
  },
);
