// Throttling of failed dashboard sign-ins, per email and per client address.
// Only failures count; a success clears the email's counter. The process uses lib/ratelimit's
// named policies (signInPerEmail, signInPerAddress) on the configured store (memory, PostgreSQL
// or Redis; it fails closed); the in-memory variant below is for unit tests.
import { getRateLimiter } from "@/lib/ratelimit";
import { limit, POLICIES, policyKey, retryAfterSeconds } from "@/lib/ratelimit/policies";

export interface ThrottlePolicy {
  /** Failures allowed inside the window before further attempts are refused. */
  limit: number;
  windowMs: number;
}
export const SIGN_IN_POLICIES = {
  perEmail: { limit: 5, windowMs: 15 * 60_000 },
  perAddress: { limit: 20, windowMs: 15 * 60_000 },
} satisfies Record<string, ThrottlePolicy>;

export interface ThrottleDecision {
  allowed: boolean;
  /** Seconds until another attempt is allowed (0 when allowed). */
  retryAfter: number;
}

export interface FailureStore {
  /** Timestamps of failures still inside the window, oldest first. */
  failures(key: string, windowMs: number, now: number): Promise<number[]>;
  addFailure(key: string, windowMs: number, now: number): Promise<void>;
  clear(key: string): Promise<void>;
}

/** One process's memory, on globalThis because Next bundles modules more than once. */
export function memoryFailureStore(): FailureStore {
  const SYMBOL = Symbol.for("keyward.auth.signInFailures");
  const g = globalThis as unknown as Record<symbol, Map<string, number[]>>;
  g[SYMBOL] ??= new Map();
  const map = g[SYMBOL];
  const prune = (key: string, windowMs: number, now: number) => {
    const kept = (map.get(key) ?? []).filter((t) => t > now - windowMs);
    if (kept.length) map.set(key, kept);
    else map.delete(key);
    return kept;
  };
  return {
    async failures(key, windowMs, now) {
      return prune(key, windowMs, now);
    },
    async addFailure(key, windowMs, now) {
      const kept = prune(key, windowMs, now);
      kept.push(now);
      // Never grow without bound for one key.
      map.set(key, kept.slice(-1000));
      if (map.size > 100_000) {
        for (const k of map.keys()) {
          if (map.size <= 50_000) break;
          map.delete(k);
        }
      }
    },
    async clear(key) {
      map.delete(key);
    },
  };
}

const emailKey = (email: string) => `email:${email.trim().toLowerCase()}`;
const addressKey = (address: string) => `addr:${address}`;

/** A throttle over a FailureStore (memory by default): for tests and as a reference. */
export function createSignInThrottle(
  store: FailureStore = memoryFailureStore(),
  policies = SIGN_IN_POLICIES,
): SignInThrottle {
  async function decide(key: string, policy: ThrottlePolicy, now: number) {
    const failures = await store.failures(key, policy.windowMs, now);
    if (failures.length < policy.limit) return { allowed: true, retryAfter: 0 };
    // Allowed again once enough old failures leave the window.
    const oldestThatMatters = failures[failures.length - policy.limit] ?? now;
    const retryAfter = Math.max(1, Math.ceil((oldestThatMatters + policy.windowMs - now) / 1000));
    return { allowed: false, retryAfter };
  }

  return {
    async check(email: string, address: string, now = Date.now()): Promise<ThrottleDecision> {
      const [byEmail, byAddress] = await Promise.all([
        decide(emailKey(email), policies.perEmail, now),
        decide(addressKey(address), policies.perAddress, now),
      ]);
      if (byEmail.allowed && byAddress.allowed) return { allowed: true, retryAfter: 0 };
      return { allowed: false, retryAfter: Math.max(byEmail.retryAfter, byAddress.retryAfter) };
    },
    async recordFailure(email: string, address: string, now = Date.now()): Promise<void> {
      await Promise.all([
        store.addFailure(emailKey(email), policies.perEmail.windowMs, now),
        store.addFailure(addressKey(address), policies.perAddress.windowMs, now),
      ]);
    },
    async recordSuccess(email: string): Promise<void> {
      await store.clear(emailKey(email));
    },
  };
}

export interface SignInThrottle {
  check(email: string, address: string, now?: number): Promise<ThrottleDecision>;
  recordFailure(email: string, address: string, now?: number): Promise<void>;
  recordSuccess(email: string): Promise<void>;
}

/** The process's throttle: lib/ratelimit's sign-in policies on the configured store. */
export function policySignInThrottle(): SignInThrottle {
  const email = (e: string) => e.trim().toLowerCase();
  return {
    async check(address: string, clientAddress: string): Promise<ThrottleDecision> {
      const [byEmail, byAddress] = await Promise.all([
        limit("signInPerEmail", email(address), { peek: true }),
        limit("signInPerAddress", clientAddress, { peek: true }),
      ]);
      if (byEmail.allowed && byAddress.allowed) return { allowed: true, retryAfter: 0 };
      const denied = [byEmail, byAddress].filter((r) => !r.allowed);
      return { allowed: false, retryAfter: Math.max(...denied.map((r) => retryAfterSeconds(r))) };
    },
    async recordFailure(address: string, clientAddress: string): Promise<void> {
      await Promise.all([
        limit("signInPerEmail", email(address)),
        limit("signInPerAddress", clientAddress),
      ]);
    },
    async recordSuccess(address: string): Promise<void> {
      await getRateLimiter()
        .store.reset(policyKey(POLICIES.signInPerEmail, email(address)))
        .catch(() => {});
    },
  };
}

let shared: SignInThrottle | undefined;
export function signInThrottle(): SignInThrottle {
  shared ??= policySignInThrottle();
  return shared;
}
