// Throttling of dashboard sign-in attempts, per email and per client address (PRODUCT.md §9).
// Every attempt reserves a slot of both policies (lib/ratelimit/policies.ts: signInPerEmail,
// signInPerAddress) BEFORE the password is checked, atomically in the configured store (memory,
// PostgreSQL or Redis; it fails closed), so concurrent guesses can check at most `limit`
// passwords per window. What happens to the slots afterwards:
// - the password was right: the email's counter is cleared and the address's slot given back;
// - it was wrong: both stay counted until the window slides past them;
// - it was never checked (the password queue was full, the database failed): both given back.
// A refused attempt counts nothing more and never reaches argon2.
import { getRateLimiter, type RateLimiter } from "@/lib/ratelimit";
import {
  limit,
  POLICIES,
  type PolicyResult,
  policyKey,
  reserve,
  retryAfterSeconds,
} from "@/lib/ratelimit/policies";

export type SignInAttempt =
  | {
      allowed: true;
      /** The password was right: clears the email's failures, refunds the address's slot. */
      succeeded(): Promise<void>;
      /** The password was never checked: refunds both slots. */
      abandoned(): Promise<void>;
    }
  | {
      allowed: false;
      /** Seconds until another attempt can be admitted. */
      retryAfter: number;
    };

export interface SignInThrottle {
  /** Reserves one attempt for this email and client address, or refuses it. */
  attempt(email: string, address: string): Promise<SignInAttempt>;
  /** Seconds until this email and address may try again (0: now); counts nothing. */
  retryAfter(email: string, address: string): Promise<number>;
  /** Forgets what was counted for an email and/or an address (the operator's unlock). */
  clear(target: { email?: string; address?: string }): Promise<void>;
}

const normalize = (email: string) => email.trim().toLowerCase();

function denied(...results: PolicyResult[]): number {
  return Math.max(...results.filter((r) => !r.allowed).map((r) => retryAfterSeconds(r)));
}

/** A throttle on the process's limiter (the default), or on a given one (tests). */
export function createSignInThrottle(options: { limiter?: RateLimiter } = {}): SignInThrottle {
  const limiter = () => options.limiter ?? getRateLimiter();
  return {
    async attempt(email, address) {
      const opts = { limiter: limiter() };
      // The address first: an address that is already refused spends none of the email's slots
      // (so a blocked attacker cannot lock a victim out faster than the email limit allows).
      const byAddress = await reserve("signInPerAddress", address, opts);
      if (!byAddress.allowed) return { allowed: false, retryAfter: denied(byAddress) };
      const byEmail = await reserve("signInPerEmail", normalize(email), opts);
      if (!byEmail.allowed) {
        await byAddress.release();
        return { allowed: false, retryAfter: denied(byEmail) };
      }
      return {
        allowed: true,
        async succeeded() {
          await Promise.all([
            byAddress.release(),
            opts.limiter.store
              .reset(policyKey(POLICIES.signInPerEmail, normalize(email)))
              .catch(() => {}),
          ]);
        },
        async abandoned() {
          await Promise.all([byAddress.release(), byEmail.release()]);
        },
      };
    },

    async retryAfter(email, address) {
      const opts = { limiter: limiter(), peek: true };
      const [byEmail, byAddress] = await Promise.all([
        limit("signInPerEmail", normalize(email), opts),
        limit("signInPerAddress", address, opts),
      ]);
      return byEmail.allowed && byAddress.allowed ? 0 : denied(byEmail, byAddress);
    },

    async clear({ email, address }) {
      const store = limiter().store;
      await Promise.all([
        email ? store.reset(policyKey(POLICIES.signInPerEmail, normalize(email))) : null,
        address ? store.reset(policyKey(POLICIES.signInPerAddress, address)) : null,
      ]);
    },
  };
}

let shared: SignInThrottle | undefined;
/** The process's throttle: the sign-in policies on the configured store. */
export function signInThrottle(): SignInThrottle {
  shared ??= createSignInThrottle();
  return shared;
}
