// Realistic usage for the usage benchmarks: one organization, 50 keys, 20 endpoints.
// - keys: Zipf-like weights (the busiest key about 15% of traffic, the quietest well under 1%),
//   a quarter of them test keys;
// - endpoints: 20 routes with their own weight, method, latency (log-normal around a median
//   from 4 ms to 1.2 s) and tokens / cost for the model-like ones;
// - time: a weekday rhythm (weekends at 55%), a daily curve (night 30%, afternoon peak) and an
//   incident day (more 5xx, slower);
// - statuses: about 2% 4xx, 0.7% 5xx normally, 201 for about half the POSTs.
// Deterministic for a seed.
import { randomBytes, randomUUID } from "node:crypto";
import { type Db, type OpenDatabase, openDatabase } from "@/lib/db";
import { generateKey } from "@/lib/keys";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { UsageRow } from "@/lib/usage/event";

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Endpoint {
  path: string;
  method: string;
  weight: number;
  medianMs: number;
  tokens: number;
}

export const ENDPOINTS: Endpoint[] = [
  { path: "/v1/chat/completions", method: "POST", weight: 18, medianMs: 850, tokens: 900 },
  { path: "/v1/embeddings", method: "POST", weight: 14, medianMs: 95, tokens: 300 },
  { path: "/v1/search", method: "GET", weight: 12, medianMs: 60, tokens: 0 },
  { path: "/v1/documents", method: "GET", weight: 9, medianMs: 25, tokens: 0 },
  { path: "/v1/documents", method: "POST", weight: 4, medianMs: 70, tokens: 0 },
  { path: "/v1/documents/{id}", method: "GET", weight: 8, medianMs: 12, tokens: 0 },
  { path: "/v1/documents/{id}", method: "DELETE", weight: 1, medianMs: 30, tokens: 0 },
  { path: "/v1/completions", method: "POST", weight: 6, medianMs: 1200, tokens: 600 },
  { path: "/v1/moderations", method: "POST", weight: 4, medianMs: 40, tokens: 80 },
  { path: "/v1/files", method: "GET", weight: 3, medianMs: 18, tokens: 0 },
  { path: "/v1/files", method: "POST", weight: 2, medianMs: 300, tokens: 0 },
  { path: "/v1/users/me", method: "GET", weight: 5, medianMs: 4, tokens: 0 },
  { path: "/v1/webhooks", method: "POST", weight: 2, medianMs: 45, tokens: 0 },
  { path: "/v1/images", method: "POST", weight: 2, medianMs: 900, tokens: 0 },
  { path: "/v1/audio/transcriptions", method: "POST", weight: 2, medianMs: 650, tokens: 400 },
  { path: "/v1/models", method: "GET", weight: 3, medianMs: 6, tokens: 0 },
  { path: "/v1/batches", method: "POST", weight: 1, medianMs: 150, tokens: 0 },
  { path: "/v1/batches/{id}", method: "GET", weight: 2, medianMs: 15, tokens: 0 },
  { path: "/v1/usage", method: "GET", weight: 1, medianMs: 35, tokens: 0 },
  { path: "/v1/health", method: "GET", weight: 1, medianMs: 2, tokens: 0 },
];

function cumulative(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => {
    acc += w / total;
    return acc;
  });
}

function pick(cum: number[], r: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Hour-of-day curve (UTC): night 0.3, working hours up to 1.6.
const HOURLY = Array.from(
  { length: 24 },
  (_, h) => 0.3 + 1.3 * Math.max(0, Math.sin(((h - 6) / 16) * Math.PI)),
);
const HOUR_CUM = cumulative(HOURLY);

export interface BenchOrg {
  organizationId: string;
  slug: string;
  keyIds: string[];
}

/** A new ENTERPRISE organization (slug bench-usage-<stamp>) with `keys` keys. */
export async function createBenchOrg(db: Db, keys = 50): Promise<BenchOrg> {
  const stamp = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
  const org = await organizationRepository.create(db, {
    name: `Bench usage ${stamp}`,
    email: `bench-${stamp}@keyward.dev`,
    slug: `bench-usage-${stamp}`,
    plan: "ENTERPRISE",
  });
  const keyIds: string[] = [];
  for (let i = 0; i < keys; i++) {
    const g = generateKey(i % 4 === 3 ? "test" : "live");
    const k = await apiKeyRepository.create(db, {
      organizationId: org.id,
      name: `bench key ${i + 1}`,
      keyHash: g.hash,
      prefix: g.prefix,
      hint: g.hint,
      environment: i % 4 === 3 ? "TEST" : "LIVE",
      scopes: ["usage:read", "usage:write"],
    });
    keyIds.push(k.id);
  }
  return { organizationId: org.id, slug: org.slug, keyIds };
}

/** The most recently created bench organization (or the one with this id or slug). */
export async function findBenchOrg(db: Db, idOrSlug?: string): Promise<BenchOrg> {
  const org = idOrSlug
    ? await db.organization.findFirst({
        where: {
          OR: [{ slug: idOrSlug }, ...(/^[0-9a-f-]{36}$/.test(idOrSlug) ? [{ id: idOrSlug }] : [])],
        },
      })
    : await db.organization.findFirst({
        where: { slug: { startsWith: "bench-usage-" } },
        orderBy: { createdAt: "desc" },
      });
  if (!org) throw new Error("no bench organization: run bench/load-usage.ts first");
  const keys = await db.apiKey.findMany({
    where: { organizationId: org.id },
    orderBy: { name: "asc" },
    select: { id: true },
  });
  return { organizationId: org.id, slug: org.slug, keyIds: keys.map((k) => k.id) };
}

export class EventGenerator {
  private readonly random: () => number;
  private readonly keyCum: number[];
  private readonly endpointCum = cumulative(ENDPOINTS.map((e) => e.weight));

  constructor(
    private readonly org: BenchOrg,
    seed = 42,
  ) {
    this.random = rng(seed);
    // Zipf-like, exponent 0.9.
    this.keyCum = cumulative(org.keyIds.map((_, i) => 1 / (i + 1) ** 0.9));
  }

  /** Relative traffic of a UTC day (weekday rhythm and a slow trend). */
  dayWeight(dayStart: number): number {
    const weekday = new Date(dayStart).getUTCDay();
    return weekday === 0 || weekday === 6 ? 0.55 : 1;
  }

  /** A time inside the day, following the hourly curve. */
  timeIn(dayStart: number): number {
    const h = pick(HOUR_CUM, this.random());
    return dayStart + h * HOUR_MS + Math.floor(this.random() * HOUR_MS);
  }

  /** One event at `at` (ms); `incident` makes errors and latency worse. */
  event(at: number, incident = false): UsageRow {
    const r = this.random;
    const ep = ENDPOINTS[pick(this.endpointCum, r())];
    const apiKeyId = this.org.keyIds[pick(this.keyCum, r())];
    const roll = r();
    const err5 = incident ? 0.06 : 0.007;
    const err4 = 0.02;
    const statusCode =
      roll < err5
        ? [500, 502, 503][Math.floor(r() * 3)]
        : roll < err5 + err4
          ? [400, 401, 404, 409, 422, 429][Math.floor(r() * 6)]
          : ep.method === "POST" && r() < 0.5
            ? 201
            : roll > 0.995
              ? 304
              : 200;
    // Log-normal: median * exp(0.6 * N(0, 1)) (Box-Muller).
    const n = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const slow = incident && statusCode >= 500 ? 4 : 1;
    const responseTimeMs = Math.max(1, Math.round(ep.medianMs * Math.exp(0.6 * n) * slow));
    const tokens = ep.tokens && statusCode < 400 ? Math.round(ep.tokens * (0.3 + r() * 1.4)) : 0;
    const costUsd = tokens
      ? (tokens * 0.000002).toFixed(6)
      : ep.method === "POST"
        ? "0.000100"
        : "0";
    return {
      id: randomUUID(),
      apiKeyId,
      organizationId: this.org.organizationId,
      endpoint: ep.path,
      method: ep.method,
      statusCode,
      responseTimeMs,
      tokens,
      costUsd,
      ipAddress: `203.0.113.${1 + Math.floor(r() * 200)}`,
      userAgent: "bench-client/1.0",
      errorCode:
        statusCode >= 500 ? "UPSTREAM_ERROR" : statusCode >= 400 ? `HTTP_${statusCode}` : null,
      errorMessage: null,
      createdAt: new Date(at),
    };
  }
}

export interface Args {
  target: "postgres" | "pglite";
  [k: string]: string | undefined;
}

/** --name value pairs; --target defaults to postgres. */
export function parseArgs(argv = process.argv.slice(2)): Args {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const [k, v] = a.includes("=") ? a.slice(2).split("=", 2) : [a.slice(2), argv[i + 1]];
    if (!a.includes("=")) i++;
    out[k] = v ?? "";
  }
  const target = (out.target ?? "postgres") as Args["target"];
  if (target !== "postgres" && target !== "pglite") throw new Error("--target postgres|pglite");
  return { ...out, target };
}

export const DEFAULT_PGLITE_DIR = "/tmp/keyward-bench-pglite";

/** Opens the bench database (migrated): DATABASE_URL, or a PGlite folder (--dir). */
export async function openBenchDb(args: Args): Promise<OpenDatabase> {
  if (args.target === "postgres") {
    const url = process.env.DATABASE_URL;
    if (!url)
      throw new Error("set DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/kw_bench)");
    return openDatabase({ kind: "postgres", url });
  }
  return openDatabase({ kind: "pglite", dataDir: args.dir || DEFAULT_PGLITE_DIR });
}

/**
 * Waits (up to maxWaitS) until the 1-minute load average is at most maxLoad: other work on a
 * 2-core machine skews every number. Returns the load average when the run starts.
 */
export async function waitForQuiet(args: Args, log = console.error): Promise<number> {
  const { loadavg } = await import("node:os");
  const maxLoad = Number(args["max-load"] ?? 1.5);
  const deadline = Date.now() + Number(args["max-wait"] ?? 180) * 1000;
  while (loadavg()[0] > maxLoad && Date.now() < deadline) {
    log(`load average ${loadavg()[0].toFixed(2)} > ${maxLoad}: waiting ...`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
  return Math.round(loadavg()[0] * 100) / 100;
}
