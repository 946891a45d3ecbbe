// Password hashing for dashboard sign-in: argon2id with OWASP's minimum parameters
// (19 MiB, 2 passes, 1 lane). Verification fails closed.
import { hash, verify } from "@node-rs/argon2";

const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 };

// The bounds live with the other account fields (lib/validation/accounts.ts).
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/validation/accounts";

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

// A real hash of a random string: checking an unknown email costs the same as a known one,
// so response time does not tell which emails have accounts.
let dummy: Promise<string> | undefined;
function dummyHash(): Promise<string> {
  dummy ??= hash(crypto.randomUUID(), OPTIONS);
  return dummy;
}

export async function verifyPassword(
  passwordHash: string | null | undefined,
  password: string,
): Promise<boolean> {
  try {
    if (!passwordHash) {
      await verify(await dummyHash(), password);
      return false;
    }
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
