// Keys issued before tokens carried a checksum ("legacy" keys, ApiKey.checksummed = false) keep
// working. Verify refuses a key whose checksum fails without any lookup, unless usable legacy
// keys may still exist: then the key goes on to the (cached) lookup as before. Whether they
// exist is one count, kept in memory: counted once when first needed (awaited), then recounted
// in the background at most once a minute. Legacy keys only ever go away (every key issued now
// is checksummed; rotation replaces a legacy key with a checksummed one), so once revoked,
// expired or rotated away, a bad checksum costs nothing again. A stale "yes" only costs lookups;
// a stale "no" lasts at most a minute and only for a legacy key revived by an expiry change.
import type { Db } from "@/lib/db";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";

const RECOUNT_MS = 60_000;

interface LegacyState {
  exist: boolean | null;
  countedAt: number;
  counting: Promise<boolean> | null;
}

const KEY = Symbol.for("keyward.legacyKeys");

function state(): LegacyState {
  const g = globalThis as unknown as Record<symbol, LegacyState | undefined>;
  g[KEY] ??= { exist: null, countedAt: 0, counting: null };
  return g[KEY];
}

function recount(db: Db, s: LegacyState): Promise<boolean> {
  s.counting ??= apiKeyRepository
    .countLegacyUsable(db)
    .then((n) => {
      s.exist = n > 0;
      s.countedAt = Date.now();
      return s.exist;
    })
    // Unknown answers "yes": looking a key up is the old, safe behaviour.
    .catch(() => true)
    .finally(() => {
      s.counting = null;
    });
  return s.counting;
}

/**
 * Whether a key whose checksum fails must still be looked up (it may be a legacy key). Answers
 * synchronously once counted, so verify's refusal path waits for nothing; a promise only for the
 * process's first count.
 */
export function legacyKeysMayExist(db: Db): boolean | Promise<boolean> {
  const s = state();
  if (s.exist === null) return recount(db, s);
  if (Date.now() - s.countedAt >= RECOUNT_MS) void recount(db, s);
  return s.exist;
}

/** Counts again now (tests, and after an operator imports keys). */
export function recountLegacyKeys(db: Db): Promise<boolean> {
  return recount(db, state());
}
