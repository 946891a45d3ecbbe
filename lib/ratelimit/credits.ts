// Per-key credits: the live balance a verify spends `cost` from, atomically, in the configured
// store (memory, PostgreSQL table KeyCreditBalance, Redis hash). The key's row holds only the
// configured starting balance; the first spend finds no balance in the store and starts from it.
//
// Refill: the balance is stored with the refill period it belongs to ("d:2026-12-01" for a daily
// refill, "m:2026-12" for a monthly one, "-" without refill). A spend that finds a balance of an
// older period starts from the refill amount instead, and stores the current period with the
// result, in the same atomic step; so the refill happens once per period whichever instance
// spends first, and a restart loses nothing (PostgreSQL, Redis). Every store runs the same rule:
// effectiveBalance() below, repeated in the SQL of PostgresCreditStore and in CREDITS_FN.
//
// A balance is never refilled by a timer: a key nobody uses is refilled by its next spend, and a
// read (GET of a key) shows what that spend would start from. The starting balance belongs to the
// period the store first sees it in: createKey sets it at once, and the first spend (even a
// refused one) stores it with its period, so a key created with 0 credits and a daily refill
// has the refill the next day.

import type { Redis } from "ioredis";
import type { Tx } from "@/lib/db";
import { luaScript, RedisCounter, runScript } from "./redis-store";
import type { Clock } from "./types";

export type RefillInterval = "day" | "month";

/** A key's credits as its row configures them (cached with the key). */
export interface CreditPlan {
  /** The starting balance (ApiKey.creditsRemaining). */
  initial: number;
  refill: { amount: number; interval: RefillInterval } | null;
}

export interface CreditResult {
  allowed: boolean;
  /** The balance after this spend (when allowed), else the balance that refused it. */
  remaining: number;
}

export interface CreditStore {
  /** Spends `cost` (an integer >= 0) when the balance holds it; a refusal spends nothing. */
  spend(keyId: string, plan: CreditPlan, cost: number): Promise<CreditResult>;
  /** Gives back `cost` spent in the current period (a later step refused the request). */
  refund(keyId: string, plan: CreditPlan, cost: number): Promise<void>;
  /** The live balance of each key, as its next spend would see it. */
  peek(entries: readonly { keyId: string; plan: CreditPlan }[]): Promise<Map<string, number>>;
  /** Sets the live balance (PATCH of credits.remaining) for the current period. */
  set(keyId: string, plan: CreditPlan, remaining: number): Promise<void>;
  /** Forgets the balance (the key no longer has credits). */
  forget(keyId: string): Promise<void>;
  close(): Promise<void>;
}

/** The refill period `now` falls in: "d:2026-12-01", "m:2026-12", or "-" without refill. */
export function creditPeriod(plan: CreditPlan, now: number): string {
  if (!plan.refill) return "-";
  const iso = new Date(now).toISOString();
  return plan.refill.interval === "day" ? `d:${iso.slice(0, 10)}` : `m:${iso.slice(0, 7)}`;
}

/** What a spend starts from: the stored balance of this period, the refill, or the start. */
export function effectiveBalance(
  stored: { remaining: number; period: string } | undefined,
  plan: CreditPlan,
  period: string,
): number {
  if (!stored) return plan.initial;
  if (stored.period !== period) return plan.refill ? plan.refill.amount : stored.remaining;
  return stored.remaining;
}

export function validateCost(cost: number): void {
  if (!Number.isInteger(cost) || cost < 0) throw new RangeError("cost must be an integer >= 0");
}

export class MemoryCreditStore implements CreditStore {
  private readonly balances = new Map<string, { remaining: number; period: string }>();
  private readonly now: Clock;

  constructor(options: { now?: Clock } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Synchronous, so nothing interleaves between the decision and the spend. */
  spendSync(keyId: string, plan: CreditPlan, cost: number): CreditResult {
    validateCost(cost);
    const period = creditPeriod(plan, this.now());
    const stored = this.balances.get(keyId);
    const balance = effectiveBalance(stored, plan, period);
    if (balance < cost) {
      // First touch pins the starting balance to this period (so the next one refills it).
      if (!stored) this.balances.set(keyId, { remaining: balance, period });
      return { allowed: false, remaining: balance };
    }
    this.balances.set(keyId, { remaining: balance - cost, period });
    return { allowed: true, remaining: balance - cost };
  }

  async spend(keyId: string, plan: CreditPlan, cost: number): Promise<CreditResult> {
    return this.spendSync(keyId, plan, cost);
  }

  /** The balance held for a key, if any (WriteBehindCreditStore writes these). */
  stored(keyId: string): Readonly<{ remaining: number; period: string }> | undefined {
    return this.balances.get(keyId);
  }

  /** Holds a balance read from the database (WriteBehindCreditStore's first use of a key). */
  restore(keyId: string, stored: { remaining: number; period: string }): void {
    this.balances.set(keyId, { ...stored });
  }

  async refund(keyId: string, plan: CreditPlan, cost: number): Promise<void> {
    const stored = this.balances.get(keyId);
    if (stored && stored.period === creditPeriod(plan, this.now())) stored.remaining += cost;
  }

  async peek(entries: readonly { keyId: string; plan: CreditPlan }[]) {
    const now = this.now();
    const out = new Map<string, number>();
    for (const { keyId, plan } of entries) {
      out.set(keyId, effectiveBalance(this.balances.get(keyId), plan, creditPeriod(plan, now)));
    }
    return out;
  }

  async set(keyId: string, plan: CreditPlan, remaining: number): Promise<void> {
    this.balances.set(keyId, { remaining, period: creditPeriod(plan, this.now()) });
  }

  async forget(keyId: string): Promise<void> {
    this.balances.delete(keyId);
  }

  async close(): Promise<void> {
    this.balances.clear();
  }
}

export class PostgresCreditStore implements CreditStore {
  private readonly dbSource: Tx | (() => Promise<Tx>);
  private readonly now: Clock;

  constructor(options: { db: Tx | (() => Promise<Tx>); now?: Clock }) {
    this.dbSource = options.db;
    this.now = options.now ?? Date.now;
  }

  private db(): Promise<Tx> {
    return typeof this.dbSource === "function" ? this.dbSource() : Promise.resolve(this.dbSource);
  }

  async spend(keyId: string, plan: CreditPlan, cost: number): Promise<CreditResult> {
    validateCost(cost);
    const period = creditPeriod(plan, this.now());
    const amount = plan.refill?.amount ?? 0;
    const db = await this.db();
    // The usual case is one statement: the row's update re-checks its WHERE on the latest row
    // version (READ COMMITTED), so concurrent spends serialize on the row and never overspend,
    // and the first spend of a new period refills (and moves the period) exactly once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const spent = await db.$queryRaw<{ remaining: number }[]>`
        UPDATE "KeyCreditBalance"
        SET "remaining" = (CASE WHEN "period" = ${period} OR ${period} = '-' THEN "remaining"
                                ELSE ${amount}::int END) - ${cost}::int,
            "period" = ${period}, "updatedAt" = (now() AT TIME ZONE 'UTC')
        WHERE "apiKeyId" = ${keyId}::uuid
          AND (CASE WHEN "period" = ${period} OR ${period} = '-' THEN "remaining"
                    ELSE ${amount}::int END) >= ${cost}::int
        RETURNING "remaining"`;
      if (spent[0]) return { allowed: true, remaining: Number(spent[0].remaining) };
      // No row yet (the key's first spend), or not enough. The first spend inserts the starting
      // balance; when another spend inserted it first, the update above is tried once more.
      const fits = plan.initial >= cost;
      const inserted = await db.$queryRaw<{ remaining: number }[]>`
        INSERT INTO "KeyCreditBalance" ("apiKeyId", "remaining", "period", "updatedAt")
        VALUES (${keyId}::uuid, ${fits ? plan.initial - cost : plan.initial}::int, ${period},
                (now() AT TIME ZONE 'UTC'))
        ON CONFLICT ("apiKeyId") DO NOTHING
        RETURNING "remaining"`;
      if (inserted[0]) return { allowed: fits, remaining: Number(inserted[0].remaining) };
    }
    const balance = await this.peek([{ keyId, plan }]);
    return { allowed: false, remaining: balance.get(keyId) ?? 0 };
  }

  async refund(keyId: string, plan: CreditPlan, cost: number): Promise<void> {
    const db = await this.db();
    await db.$executeRaw`
      UPDATE "KeyCreditBalance" SET "remaining" = "remaining" + ${cost}::int
      WHERE "apiKeyId" = ${keyId}::uuid AND "period" = ${creditPeriod(plan, this.now())}`;
  }

  /** The stored balances of these keys, as rows hold them (keys without a row are absent). */
  async read(
    keyIds: readonly string[],
  ): Promise<Map<string, { remaining: number; period: string }>> {
    const out = new Map<string, { remaining: number; period: string }>();
    if (keyIds.length === 0) return out;
    const db = await this.db();
    const rows = await db.$queryRaw<{ apiKeyId: string; remaining: number; period: string }[]>`
      SELECT "apiKeyId"::text AS "apiKeyId", "remaining", "period" FROM "KeyCreditBalance"
      WHERE "apiKeyId" = ANY(${keyIds}::uuid[])`;
    for (const r of rows) out.set(r.apiKeyId, { remaining: Number(r.remaining), period: r.period });
    return out;
  }

  async peek(entries: readonly { keyId: string; plan: CreditPlan }[]) {
    const out = new Map<string, number>();
    const stored = await this.read(entries.map((e) => e.keyId));
    const now = this.now();
    for (const { keyId, plan } of entries) {
      out.set(keyId, effectiveBalance(stored.get(keyId), plan, creditPeriod(plan, now)));
    }
    return out;
  }

  async set(keyId: string, plan: CreditPlan, remaining: number): Promise<void> {
    const db = await this.db();
    const period = creditPeriod(plan, this.now());
    await db.$executeRaw`
      INSERT INTO "KeyCreditBalance" ("apiKeyId", "remaining", "period", "updatedAt")
      VALUES (${keyId}::uuid, ${remaining}::int, ${period}, (now() AT TIME ZONE 'UTC'))
      ON CONFLICT ("apiKeyId") DO UPDATE
        SET "remaining" = EXCLUDED."remaining", "period" = EXCLUDED."period",
            "updatedAt" = EXCLUDED."updatedAt"`;
  }

  async forget(keyId: string): Promise<void> {
    const db = await this.db();
    await db.$executeRaw`DELETE FROM "KeyCreditBalance" WHERE "apiKeyId" = ${keyId}::uuid`;
  }

  async close(): Promise<void> {}
}

// The credits step as a Lua function, shared with the verify path's combined script
// (redis-key-request.ts): effectiveBalance() and the spend. Arguments are strings (ARGV);
// returns allowed, remaining (after the spend when committed). A hash {r: remaining, p: period}.
export const CREDITS_FN = `
local function credits(key, initial_s, amount_s, period, cost_s, commit)
  local h = redis.call("HMGET", key, "r", "p")
  local balance
  if not h[1] then
    -- First touch pins the starting balance to this period (so the next one refills it).
    balance = tonumber(initial_s)
    redis.call("HSET", key, "r", balance, "p", period)
  elseif h[2] ~= period and period ~= "-" then balance = tonumber(amount_s)
  else balance = tonumber(h[1]) end
  local cost = tonumber(cost_s)
  if balance < cost then return false, balance end
  if commit == "1" then
    balance = balance - cost
    redis.call("HSET", key, "r", balance, "p", period)
  end
  return true, balance
end
`;

// KEYS[1] balance hash; ARGV: initial, refill amount, period, cost, commit.
const CREDITS = luaScript(`${CREDITS_FN}
local allowed, remaining = credits(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return {allowed and 1 or 0, remaining}
`);

// KEYS[1] balance hash; ARGV: period, cost. Gives back only within the same period.
const REFUND = luaScript(`
local h = redis.call("HMGET", KEYS[1], "r", "p")
if not h[1] or h[2] ~= ARGV[1] then return 0 end
redis.call("HINCRBY", KEYS[1], "r", ARGV[2])
return 1
`);

/** The arguments of CREDITS_FN for a key's plan at `now`, after its key. */
export function creditArgs(plan: CreditPlan, now: number, cost: number): (string | number)[] {
  return [plan.initial, plan.refill?.amount ?? 0, creditPeriod(plan, now), cost];
}

export class RedisCreditStore extends RedisCounter implements CreditStore {
  constructor(options: { redis?: Redis; url?: string; prefix?: string; now?: Clock }) {
    super(options, "RedisCreditStore", "kw:credits:");
  }

  /** The Redis key holding a key's balance. */
  redisKey(keyId: string): string {
    return this.prefix + keyId;
  }

  async spend(keyId: string, plan: CreditPlan, cost: number): Promise<CreditResult> {
    validateCost(cost);
    const args = [...creditArgs(plan, this.now(), cost), 1];
    const [allowed, remaining] = (await runScript(
      this.redis,
      CREDITS,
      this.redisKey(keyId),
      args,
    )) as [number, number];
    return { allowed: allowed === 1, remaining: Number(remaining) };
  }

  async refund(keyId: string, plan: CreditPlan, cost: number): Promise<void> {
    await runScript(this.redis, REFUND, this.redisKey(keyId), [
      creditPeriod(plan, this.now()),
      cost,
    ]);
  }

  async peek(entries: readonly { keyId: string; plan: CreditPlan }[]) {
    const out = new Map<string, number>();
    const now = this.now();
    const replies = await Promise.all(
      entries.map(
        (e) =>
          runScript(this.redis, CREDITS, this.redisKey(e.keyId), [
            ...creditArgs(e.plan, now, 0),
            0,
          ]) as Promise<[number, number]>,
      ),
    );
    for (const [i, e] of entries.entries()) {
      out.set(e.keyId, Number(replies[i]?.[1] ?? e.plan.initial));
    }
    return out;
  }

  async set(keyId: string, plan: CreditPlan, remaining: number): Promise<void> {
    const period = creditPeriod(plan, this.now());
    await this.redis.hset(this.redisKey(keyId), "r", remaining, "p", period);
  }

  async forget(keyId: string): Promise<void> {
    await this.redis.del(this.redisKey(keyId));
  }
}
