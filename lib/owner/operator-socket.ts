// The embedded database's owner takes operator commands on its Unix socket in the data
// folder (the one its lock names, mode 0600: only whoever can read the folder can use it).
// The CLI sends its argv; the owner runs the same command function in-process, over its
// own database connection, and answers with the output and exit code. No other process
// ever opens the folder or speaks the PostgreSQL protocol to it. The socket itself, and
// the ping that proves the owner alive, belong to the lock (lib/db/owner-lock.ts).
import type { CommandResult } from "@/lib/cli/types";
import { type OwnerLock, requestOwner } from "@/lib/db/owner-lock";

export interface OperatorSocket {
  path: string;
  close(): Promise<void>;
}

/** Starts answering operator commands on the lock's socket. */
export async function startOperatorSocket(lock: OwnerLock): Promise<OperatorSocket> {
  const { executeCommand } = await import("@/lib/cli/commands");
  const inFlight = new Set<Promise<unknown>>();
  lock.setHandler(async ({ argv }) => {
    const job = executeCommand(argv, { via: "socket" });
    inFlight.add(job);
    try {
      return await job;
    } finally {
      inFlight.delete(job);
    }
  });
  return {
    path: lock.socket,
    async close() {
      // Commands arriving from now on are told the owner is busy (the CLI retries, and owns
      // the folder itself once this process has gone); the ones in flight finish.
      lock.setHandler(undefined);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** What an owner answers: the command's result, or busy (starting, shutting down, or a CLI run). */
export type OwnerAnswer = CommandResult | { busy: true; pid: number };

/** Send argv to the owner's socket; resolves with its answer, or rejects if nobody answers. */
export function sendToOwner(
  socket: string,
  argv: string[],
  timeoutMs = 120_000,
): Promise<OwnerAnswer> {
  return requestOwner<OwnerAnswer>(socket, { argv }, timeoutMs);
}
