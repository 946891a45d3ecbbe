// The CLI's process-level entry: decide who runs the command. On the embedded
// default, a running app owns the data folder, so the command is sent to it
// over the operator socket; with no owner, this process takes the lock for its
// own run. With DATABASE_URL every process talks to PostgreSQL directly.
import { closeDatabase } from "@/lib/db";
import { databaseTarget } from "@/lib/db/config";
import { isProcessAlive, readLockOwner } from "@/lib/db/owner-lock";
import { sendToOwner } from "@/lib/owner/operator-socket";
import type { CommandResult } from "./types";

async function run(argv: string[]): Promise<CommandResult> {
  const target = databaseTarget();
  if (target.kind === "pglite") {
    const owner = readLockOwner(target.dataDir);
    if (owner !== null && owner !== process.pid && isProcessAlive(owner)) {
      try {
        return await sendToOwner(target.dataDir, argv);
      } catch (e) {
        return {
          code: 1,
          stdout: "",
          stderr: `keyward: the embedded database in ${target.dataDir} is owned by pid ${owner}, which did not answer on its operator socket (${(e as Error).message})\n`,
        };
      }
    }
  }
  const { executeCommand } = await import("./commands");
  try {
    return await executeCommand(argv, { via: "local" });
  } finally {
    await closeDatabase();
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
