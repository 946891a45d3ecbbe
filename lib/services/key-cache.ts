// Verified keys cached in process for a short time, so verify does not query the database on
// every request. Revocation must reach every instance within a second: entries live at most
// `ttlMs` (1 s by default), revoke/rotate/update drop the entry here at once, and when REDIS_URL
// is set the drop is published so other instances drop theirs too.
//
// Negative answers (no such key) are cached briefly as well, in their own bounded map, so a
// flood of made-up keys neither reaches the database on every request nor evicts real keys.
// That is safe because a key's hash cannot be asked about before the key exists (256 random
// bits), and createKey drops the hash anyway.
import { config } from "@/lib/config";
import { onShutdown } from "@/lib/lifecycle";
import type { AllowlistMatcher } from "@/lib/net/cidr";
import type { CreditPlan } from "@/lib/ratelimit/credits";
import type { Plan } from "@/lib/validation/rules";

export interface CachedOrganization {
  id: string;
  name: string;
  slug: string;
  plan: Plan;
  isActive: boolean;
  rateLimitPerMinute: number;
  monthlyQuota: number;
  maxActiveKeys: number;
  /** Month-to-date spend cap in micro-dollars; null: none. */
  spendLimitMicros: number | null;
}

/** What verify needs about a key, frozen at lookup time. */
export interface CachedKey {
  id: string;
  organizationId: string;
  keyHash: string;
  name: string;
  prefix: string;
  hint: string;
  environment: "live" | "test";
  status: "active" | "revoked" | "expired";
  scopes: string[];
  /** Unix ms, or null for never. */
  expiresAt: number | null;
  rateLimitPerMinute: number | null;
  /** The key's credits (starting balance and refill), or null when it has none. */
  credits: CreditPlan | null;
  /** Month-to-date spend cap in micro-dollars; null: none. */
  spendLimitMicros: number | null;
  /** The key's networks, compiled once when cached; null: no allowlist (any address). */
  allowlist: AllowlistMatcher | null;
  externalId: string | null;
  meta: Record<string, unknown> | null;
  organization: CachedOrganization;
}

export type CacheLookup = { hit: true; value: CachedKey | null } | { hit: false };

export interface KeyCacheOptions {
  ttlMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Entry = { value: CachedKey | null; expires: number };

export class KeyCache {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly found = new Map<string, Entry>();
  private readonly missing = new Map<string, Entry>();
  private readonly hashById = new Map<string, string>();
  /** Lookups under way, one per hash: the requests that miss together share one query. */
  private readonly inflight = new Map<string, Promise<CachedKey | null>>();
  private listeners: Array<(hash: string) => void> = [];

  constructor(options: KeyCacheOptions = {}) {
    // Never longer than a second: that is the revocation promise.
    this.ttlMs = Math.min(options.ttlMs ?? 1000, 1000);
    this.negativeTtlMs = Math.min(options.negativeTtlMs ?? 1000, this.ttlMs);
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get(hash: string): CacheLookup {
    const now = this.now();
    for (const map of [this.found, this.missing]) {
      const e = map.get(hash);
      if (!e) continue;
      if (e.expires <= now) {
        map.delete(hash);
        continue;
      }
      // Most recently used goes to the back; eviction takes from the front.
      map.delete(hash);
      map.set(hash, e);
      return { hit: true, value: e.value };
    }
    return { hit: false };
  }

  set(hash: string, value: CachedKey | null): void {
    const map = value ? this.found : this.missing;
    const ttl = value ? this.ttlMs : this.negativeTtlMs;
    if (ttl <= 0) return;
    (value ? this.missing : this.found).delete(hash);
    map.delete(hash);
    map.set(hash, { value, expires: this.now() + ttl });
    if (value) this.hashById.set(value.id, hash);
    while (map.size > this.maxEntries) {
      const oldest = map.keys().next().value as string;
      const evicted = map.get(oldest);
      map.delete(oldest);
      if (evicted?.value) this.hashById.delete(evicted.value.id);
    }
  }

  /**
   * The cached answer, else one lookup per hash however many requests miss at once (when an
   * entry expires under load, the 50 requests in flight make one query, not 50). Its answer is
   * cached, unless the hash was dropped (a revoke) while it ran: a request after the drop
   * starts a lookup of its own.
   */
  lookup(
    hash: string,
    load: () => Promise<CachedKey | null>,
  ): { hit: true; value: CachedKey | null } | Promise<CachedKey | null> {
    const cached = this.get(hash);
    if (cached.hit) return cached;
    const pending = this.inflight.get(hash);
    if (pending) return pending;
    const p: Promise<CachedKey | null> = load().then(
      (value) => {
        if (this.inflight.get(hash) === p) {
          this.inflight.delete(hash);
          this.set(hash, value);
        }
        return value;
      },
      (e: unknown) => {
        if (this.inflight.get(hash) === p) this.inflight.delete(hash);
        throw e;
      },
    );
    this.inflight.set(hash, p);
    return p;
  }

  /** Drops a hash here and, through the listeners (Redis), on every other instance. */
  invalidate(hash: string): void {
    this.drop(hash);
    for (const l of this.listeners) l(hash);
  }

  invalidateKeyId(id: string): void {
    const hash = this.hashById.get(id);
    if (hash) this.invalidate(hash);
  }

  /** Local only: what a message from another instance does. */
  drop(hash: string): void {
    const e = this.found.get(hash);
    if (e?.value) this.hashById.delete(e.value.id);
    this.found.delete(hash);
    this.missing.delete(hash);
    this.inflight.delete(hash);
  }

  clear(): void {
    this.found.clear();
    this.missing.clear();
    this.hashById.clear();
    this.inflight.clear();
  }

  onInvalidate(listener: (hash: string) => void): void {
    this.listeners.push(listener);
  }

  get size(): number {
    return this.found.size + this.missing.size;
  }
}

const CHANNEL = "keyward:key-cache:invalidate";
const KEY = Symbol.for("keyward.keyCache");

// Kept on globalThis: Next bundles route handlers separately, and a revoke in one route must
// clear the entry the verify route reads.
export function getKeyCache(): KeyCache {
  const g = globalThis as unknown as Record<symbol, KeyCache | undefined>;
  let cache = g[KEY];
  if (!cache) {
    cache = new KeyCache();
    g[KEY] = cache;
    const url = config().REDIS_URL;
    if (url) void connectKeyCacheInvalidation(cache, url);
  }
  return cache;
}

/** Test hook: replaces the process's cache (e.g. with a TTL of 0). */
export function setKeyCache(cache: KeyCache): void {
  (globalThis as unknown as Record<symbol, KeyCache>)[KEY] = cache;
}

// Redis pub/sub: publish our drops, apply everyone's. If Redis is down, the 1 s TTL still holds.
/** Connects a cache to the invalidation channel; resolves to a close function (null on failure). */
export async function connectKeyCacheInvalidation(
  cache: KeyCache,
  url: string,
): Promise<(() => Promise<void>) | null> {
  try {
    const { Redis } = await import("ioredis");
    const opts = { maxRetriesPerRequest: 1, enableOfflineQueue: false };
    const pub = new Redis(url, opts);
    const sub = new Redis(url, { ...opts, enableOfflineQueue: true });
    pub.on("error", () => {});
    sub.on("error", () => {});
    sub.on("message", (channel: string, hash: string) => {
      if (channel === CHANNEL && /^[0-9a-f]{64}$/.test(hash)) cache.drop(hash);
    });
    await sub.subscribe(CHANNEL);
    cache.onInvalidate((hash) => {
      pub.publish(CHANNEL, hash).catch(() => {});
    });
    const close = async () => {
      sub.disconnect();
      pub.disconnect();
    };
    onShutdown("key-cache-redis", close, 20);
    return close;
  } catch {
    return null; // the TTL bounds staleness without Redis
  }
}
