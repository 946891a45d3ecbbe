// The embedded database folder has exactly one owner process. The lock file,
// created with O_EXCL ('wx'), holds the owner's pid; a lock whose pid is gone
// (or a zombie) is taken over. See TOOLCHAIN.md, "PGlite is one process".
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

export const LOCK_FILE = "keyward.lock";

export class DatabaseOwnedError extends Error {
  readonly code = "DATABASE_OWNED";
  constructor(
    readonly pid: number,
    readonly dataDir: string,
  ) {
    super(
      `the embedded database in ${dataDir} is owned by pid ${pid}; stop it first, or set DATABASE_URL to run several instances on PostgreSQL`,
    );
  }
}

/** True when a process with this pid exists and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // A killed process can linger as a zombie that kill -0 reports alive.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true; // no /proc: trust kill -0
  }
}

export function readLockOwner(dataDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path.join(dataDir, LOCK_FILE), "utf8").trim(), 10);
    return Number.isFinite(pid) ? pid : null;
  } catch {
    return null;
  }
}

export interface OwnerLock {
  readonly file: string;
  release(): void;
}

export function acquireOwnerLock(dataDir: string): OwnerLock {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          if (readLockOwner(dataDir) === process.pid) {
            try {
              unlinkSync(file);
            } catch {}
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = readLockOwner(dataDir);
      if (owner === process.pid) throw new Error("this process already holds the database lock");
      if (owner !== null && isProcessAlive(owner)) throw new DatabaseOwnedError(owner, dataDir);
      // Stale: the owner is gone. Remove and retry the exclusive create, so two
      // processes racing for a stale lock still end with one owner.
      try {
        unlinkSync(file);
      } catch {}
    }
  }
  const owner = readLockOwner(dataDir);
  throw new DatabaseOwnedError(owner ?? -1, dataDir);
}
