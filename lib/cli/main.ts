// The CLI's process-level entry: decide who runs the command. On the embedded
// default, a running app owns the data folder, so the command is sent to it
// over the operator socket its lock names; with no owner, this process takes the
// lock for its own run. With DATABASE_URL every process talks to PostgreSQL directly.
import { closeDatabase, getDatabase } from "@/lib/db";
import { databaseTarget } from "@/lib/db/config";
import { DatabaseOwnedError, findOwner } from "@/lib/db/owner-lock";
import { sendToOwner } from "@/lib/owner/operator-socket";
import type { CommandResult } from "./types";

/** How long the CLI waits for a busy owner (starting, stopping, or another CLI's run). */
const BUSY_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failure = (message: string): CommandResult => ({
  code: 1,
  stdout: "",
  stderr: `keyward: ${message}\n`,
});

async function runLocally(argv: string[]): Promise<CommandResult> {
  const { executeCommand } = await import("./commands");
  try {
    return await executeCommand(argv, { via: "local" });
  } finally {
    await closeDatabase();
  }
}

/** Help and unknown commands answer without opening the folder. */
async function needsDatabase(argv: string[]): Promise<boolean> {
  const { COMMANDS } = await import("./registry");
  const spec = COMMANDS[argv[0] as keyof typeof COMMANDS] as { database?: boolean } | undefined;
  return spec !== undefined && spec.database !== false;
}

async function run(argv: string[]): Promise<CommandResult> {
  // scan reads files, never the database: no owner asked, no folder opened.
  if (argv[0] === "scan") return (await import("./scan")).runScan(argv.slice(1));
  // Help, unknown commands and bad flags answer before any database work (no folder created,
  // no owner asked): the same answer the command itself would give.
  const { answerWithoutDatabase } = await import("./commands");
  const early = answerWithoutDatabase(argv);
  if (early) return early;
  const target = databaseTarget();
  if (target.kind !== "pglite") return runLocally(argv);

  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    const owner = await findOwner(target.dataDir);
    if (owner) {
      const who = `the embedded database in ${target.dataDir} is owned by pid ${owner.pid}`;
      if (owner.liveness === "silent") {
        // It took the connection but did not answer: alive, but stuck or stopped for now.
        if (Date.now() > deadline) return failure(`${who}, which does not answer`);
        await sleep(500);
        continue;
      }
      let answer: Awaited<ReturnType<typeof sendToOwner>>;
      try {
        answer = await sendToOwner(owner.socket, argv);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ECONNREFUSED" || code === "ENOENT") continue; // it just stopped
        return failure(
          `${who}, which did not answer on its operator socket (${(e as Error).message})`,
        );
      }
      if (!("busy" in answer)) return answer;
      if (Date.now() > deadline) {
        return failure(
          `${who}, which stayed busy (starting, stopping or running another command); try again`,
        );
      }
      await sleep(200);
      continue;
    }
    // Nobody owns the folder: own it for this run. A start that won it meanwhile is asked instead.
    if (!(await needsDatabase(argv))) return runLocally(argv);
    try {
      // A CLI run is a few queries: the small buffer pool opens faster (lib/db openDatabase).
      await getDatabase({ shortLived: true });
    } catch (e) {
      if (e instanceof DatabaseOwnedError && Date.now() < deadline) continue;
      const reason =
        e instanceof DatabaseOwnedError
          ? e.message
          : `cannot open the database: ${(e as Error).message}`;
      return failure(reason.replace(/\s*\n\s*/g, " "));
    }
    return runLocally(argv);
  }
}

export async function runCli(argv: string[]): Promise<number> {
  const result = await run(argv);
  // Writes to a pipe are asynchronous: wait for them, or process.exit() cuts a large
  // --json answer short.
  const write = (stream: NodeJS.WriteStream, text: string) =>
    new Promise<void>((resolve) => (text ? stream.write(text, () => resolve()) : resolve()));
  await write(process.stdout, result.stdout);
  await write(process.stderr, result.stderr);
  return result.code;
}
