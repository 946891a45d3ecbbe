// Month-to-date metered cost (USD, counted in integer micro-dollars) per organization and per key,
// for the spend caps (ApiKey.spendLimitUsd, Organization.spendLimitUsd). Kept like the PostgreSQL
// quota counter (quota.ts): no query per verify. Per organization, a base counted from the usage
// rollups (one grouped query gives every key and the total) plus what this process's usage
// recorder took since (add(), called at record time); every `refreshMs` the base is recounted and
// becomes max(recount, base + delta), so nothing this process recorded is forgotten while its
// write is still buffered, and other writers (other instances, POST /api/v1/usage/events served
// elsewhere) are picked up.
//
// The lag, documented in docs/api.md: cost recorded by this instance counts at once for an
// organization already being watched (one whose key carries a cap was verified here this month);
// cost recorded elsewhere counts after it is written (the recorder flushes every second) and this
// instance's next recount (refreshMs, 10 s by default). So a cap is exceeded by at most what the
// callers spend in about 11 seconds on other instances, and by the cost of requests already
// admitted when the crossing one was recorded.

import type { Tx } from "@/lib/db";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { dbOf, type Month, monthOf, refreshed } from "./quota";
import type { Clock } from "./types";

const MICRO = 1_000_000;
const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/** "12.345678" (a Decimal's string) -> 12345678 micro-dollars; extra digits are cut. */
export function toMicros(value: string | { toString(): string }): number {
  const m = DECIMAL_RE.exec(String(value).trim());
  if (!m) return 0;
  const micros = Number(m[2]) * MICRO + Number((m[3] ?? "").padEnd(6, "0").slice(0, 6));
  return m[1] === "-" ? -micros : micros;
}

/** 12345678 -> "12.345678". */
export function fromMicros(micros: number): string {
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(Math.round(micros));
  return `${sign}${Math.floor(abs / MICRO)}.${String(abs % MICRO).padStart(6, "0")}`;
}

/** Month-to-date cost per key of one organization, from the rollups, in micro-dollars. */
export type SpendSummer = (
  db: Tx,
  organizationId: string,
  from: Date,
  to: Date,
) => Promise<Map<string, number>>;

export const sumMeteredCost: SpendSummer = async (db, organizationId, from, to) => {
  const rows = await usageRepository.costByKey(db, organizationId, from, to);
  return new Map(rows.map((r) => [r.apiKeyId, toMicros(r.costUsd)]));
};

export interface SpendState {
  /** Micro-dollars this month, organization-wide. */
  organization: number;
  /** Micro-dollars this month, this key. */
  key: number;
}

interface Entry {
  month: string;
  baseOrg: number;
  deltaOrg: number;
  base: Map<string, number>;
  delta: Map<string, number>;
  loadedAt: number;
  loading?: Promise<void>;
}

export class SpendCounter {
  private readonly entries = new Map<string, Entry>();
  private readonly dbSource: Tx | (() => Promise<Tx>);
  private readonly now: Clock;
  private readonly refreshMs: number;
  private readonly sum: SpendSummer;

  constructor(options: {
    db: Tx | (() => Promise<Tx>);
    now?: Clock;
    /** How long a recount is trusted (default 10 s): the lag for cost recorded elsewhere. */
    refreshMs?: number;
    sum?: SpendSummer;
  }) {
    this.dbSource = options.db;
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshMs ?? 10_000;
    this.sum = options.sum ?? sumMeteredCost;
  }

  /** The usage recorder took an event of `costUsd` (decimal string). Cheap; synchronous. */
  add(organizationId: string, apiKeyId: string, costUsd: string): void {
    const entry = this.entries.get(organizationId);
    if (!entry || entry.month !== monthOf(this.now()).key) return; // not watched: the recount has it
    const micros = toMicros(costUsd);
    if (micros === 0) return;
    entry.deltaOrg += micros;
    entry.delta.set(apiKeyId, (entry.delta.get(apiKeyId) ?? 0) + micros);
  }

  /** This month's cost of the organization and of the key; awaits a recount only when stale. */
  async read(organizationId: string, apiKeyId: string): Promise<SpendState> {
    const now = this.now();
    const loaded = this.load(organizationId, now, monthOf(now));
    const e = loaded instanceof Promise ? await loaded : loaded;
    return {
      organization: e.baseOrg + e.deltaOrg,
      key: (e.base.get(apiKeyId) ?? 0) + (e.delta.get(apiKeyId) ?? 0),
    };
  }

  /** Forgets everything (tests; a limiter being closed). */
  async close(): Promise<void> {
    this.entries.clear();
  }

  private load(orgId: string, now: number, month: Month): Entry | Promise<Entry> {
    let entry = this.entries.get(orgId);
    if (!entry || entry.month !== month.key) {
      entry = {
        month: month.key,
        baseOrg: 0,
        deltaOrg: 0,
        base: new Map(),
        delta: new Map(),
        loadedAt: Number.NEGATIVE_INFINITY,
      };
      this.entries.set(orgId, entry);
    }
    const e = entry;
    return refreshed(e, now, this.refreshMs, async () => {
      const db = await dbOf(this.dbSource);
      const counted = await this.sum(db, orgId, new Date(month.start), new Date(month.end));
      let total = 0;
      for (const micros of counted.values()) total += micros;
      const keys = new Set([...counted.keys(), ...e.base.keys(), ...e.delta.keys()]);
      for (const k of keys) {
        const mine = (e.base.get(k) ?? 0) + (e.delta.get(k) ?? 0);
        e.base.set(k, Math.max(counted.get(k) ?? 0, mine));
      }
      e.baseOrg = Math.max(total, e.baseOrg + e.deltaOrg);
      e.delta.clear();
      e.deltaOrg = 0;
      e.loadedAt = this.now();
    });
  }
}
