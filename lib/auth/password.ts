// Password hashing for dashboard sign-in: argon2id with OWASP's minimum parameters
// (19 MiB, 2 passes, 1 lane). Verification fails closed. Every hash and verify goes through one
// bounded queue per process (at most 2 at once, 16 waiting): a flood of sign-ups or sign-in
// attempts gets "try again" (PasswordWorkBusy) instead of a growing pile of 19 MiB jobs.
import { hash, verify } from "@node-rs/argon2";
import { createWorkQueue, type WorkQueue, WorkQueueFull } from "./work-queue";

const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** How many argon2 jobs run at once and how many may wait, per process. */
export const PASSWORD_WORK = { concurrency: 2, maxQueued: 16 } as const;

/** The password queue is full: the caller should answer "try again shortly". */
export class PasswordWorkBusy extends WorkQueueFull {}

// On globalThis: Next bundles this module more than once in one process.
const QUEUE = Symbol.for("keyward.auth.passwordQueue");
function queue(): WorkQueue {
  const g = globalThis as unknown as Record<symbol, WorkQueue | undefined>;
  g[QUEUE] ??= createWorkQueue({ name: "password hashing", ...PASSWORD_WORK });
  return g[QUEUE];
}

async function queued<T>(job: () => Promise<T>): Promise<T> {
  try {
    return await queue().run(job);
  } catch (e) {
    if (e instanceof WorkQueueFull && !(e instanceof PasswordWorkBusy)) {
      throw new PasswordWorkBusy("password hashing");
    }
    throw e;
  }
}

/** Throws PasswordWorkBusy when the queue is full. */
export function hashPassword(password: string): Promise<string> {
  return queued(() => hash(password, OPTIONS));
}

// A real hash of a random string: checking an unknown email costs the same as a known one,
// so response time does not tell which emails have accounts.
let dummy: Promise<string> | undefined;
function dummyHash(): Promise<string> {
  dummy ??= hash(crypto.randomUUID(), OPTIONS);
  return dummy;
}

/** False for a wrong password or any failure of the check; throws PasswordWorkBusy when full. */
export function verifyPassword(
  passwordHash: string | null | undefined,
  password: string,
): Promise<boolean> {
  return queued(async () => {
    try {
      if (!passwordHash) {
        await verify(await dummyHash(), password);
        return false;
      }
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  });
}
