// The demo: an organization, its owner (email and password printed once), a
// few keys and 30 days of plausible usage, so the charts show something on the
// first start. Built through the services, like any other data.
import { randomBytes } from "node:crypto";
import { config } from "@/lib/config";
import type { Db } from "@/lib/db";
import type { Actor } from "@/lib/services/actor";

/** The demo organization's slug (a second --force seed gets a suffix). */
export const DEMO_SLUG = "demo";

export interface SeedResult {
  created: boolean;
  slug: string;
  organizationId?: string;
  email?: string;
  password?: string;
  keys?: number;
  usageEvents?: number;
}

const ENDPOINTS: {
  path: string;
  method: string;
  weight: number;
  latency: number;
  tokens: number;
}[] = [
  { path: "/v1/chat/completions", method: "POST", weight: 30, latency: 420, tokens: 900 },
  { path: "/v1/embeddings", method: "POST", weight: 18, latency: 90, tokens: 300 },
  { path: "/v1/search", method: "GET", weight: 16, latency: 60, tokens: 0 },
  { path: "/v1/documents", method: "GET", weight: 12, latency: 35, tokens: 0 },
  { path: "/v1/documents", method: "POST", weight: 8, latency: 140, tokens: 0 },
  { path: "/v1/images/generate", method: "POST", weight: 6, latency: 2400, tokens: 0 },
  { path: "/v1/users/me", method: "GET", weight: 6, latency: 20, tokens: 0 },
  { path: "/v1/webhooks", method: "POST", weight: 4, latency: 75, tokens: 0 },
];

/** Index of the weight that a uniform draw in [0, 1) falls into. */
function pick(weights: number[], draw: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i];
    if (draw < acc) return i;
  }
  return 0;
}

/** Deterministic pseudo-random numbers, so the demo looks the same on every seed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function seedDemo(
  db: Db,
  opts: { force?: boolean; days?: number } = {},
): Promise<SeedResult> {
  const { createOrganization, getOrganizationBySlugOrNull } = await import(
    "@/lib/services/org-service"
  );
  const { createUserInOrganization } = await import("@/lib/services/user-service");
  const { createKey, revokeKey } = await import("@/lib/services/keys");
  const { usageRepository } = await import("@/lib/repositories/usage-repository");

  const existing = await getOrganizationBySlugOrNull(db, DEMO_SLUG);
  if (existing && !opts.force) return { created: false, slug: DEMO_SLUG };

  const actor: Actor = { type: "system", id: "seed" };
  const suffix = existing ? `-${randomBytes(3).toString("hex")}` : "";
  const org = await createOrganization(
    db,
    {
      name: `Demo Inc${suffix ? ` ${suffix.slice(1)}` : ""}`,
      email: `demo${suffix}@keyward.dev`,
      plan: "PRO",
      slug: `${DEMO_SLUG}${suffix}`,
    },
    actor,
  );
  const email = `owner${suffix}@keyward.dev`;
  const password = config().KEYWARD_DEMO_PASSWORD || randomBytes(12).toString("base64url");
  await createUserInOrganization(
    db,
    { email, password, org: org.slug, role: "OWNER", name: "Demo Owner" },
    actor,
  );

  const specs = [
    {
      name: "Production backend",
      environment: "live" as const,
      scopes: ["keys:read", "usage:read", "usage:write"],
    },
    { name: "Analytics worker", environment: "live" as const, scopes: ["usage:read"] },
    { name: "Mobile app", environment: "live" as const, scopes: ["usage:write"] },
    {
      name: "Staging",
      environment: "test" as const,
      scopes: ["keys:read", "keys:write", "usage:read", "usage:write"],
    },
    { name: "Old CI key", environment: "test" as const, scopes: ["keys:read"] },
  ];
  const keys = [];
  for (const spec of specs) {
    const { apiKey } = await createKey(
      db,
      { organizationId: org.id, ...spec, expiresAt: null, rateLimitPerMinute: null },
      actor,
    );
    keys.push(apiKey);
  }
  await revokeKey(db, org.id, keys[4].id, { reason: "Replaced by the Staging key" }, actor);

  // 30 days of traffic: weekday rhythm, a slow upward trend, an incident on one day.
  const random = rng(42);
  const days = opts.days ?? 30;
  const keyWeights = [0.5, 0.2, 0.18, 0.1, 0.02];
  const totalWeight = ENDPOINTS.reduce((s, e) => s + e.weight, 0);
  const now = Date.now();
  let batch: Parameters<typeof usageRepository.createMany>[1] = [];
  let count = 0;
  for (let d = days - 1; d >= 0; d--) {
    const dayStart = new Date(now - d * 86_400_000);
    dayStart.setUTCHours(0, 0, 0, 0);
    const weekday = dayStart.getUTCDay();
    const base = 500 + (days - d) * 12;
    const perDay = Math.round(
      base * (weekday === 0 || weekday === 6 ? 0.55 : 1) * (0.85 + random() * 0.3),
    );
    const incident = d === 9;
    for (let i = 0; i < perDay; i++) {
      const at = new Date(dayStart.getTime() + Math.floor(random() * 86_400_000));
      if (at.getTime() > now) continue;
      const ep =
        ENDPOINTS[
          pick(
            ENDPOINTS.map((e) => e.weight / totalWeight),
            random(),
          )
        ];
      const key = keys[pick(keyWeights, random())];
      const roll = random();
      const errRate = incident ? 0.18 : 0.03;
      const statusCode =
        roll < errRate * 0.35
          ? 500
          : roll < errRate
            ? [400, 401, 404, 422, 429][Math.floor(random() * 5)]
            : roll < errRate + 0.05
              ? 201
              : 200;
      const latency = Math.max(
        3,
        Math.round(
          ep.latency * Math.exp((random() - 0.5) * 1.2) * (incident && statusCode >= 500 ? 4 : 1),
        ),
      );
      const tokens = ep.tokens ? Math.round(ep.tokens * (0.4 + random() * 1.2)) : 0;
      const cost = tokens
        ? (tokens * 0.000002).toFixed(6)
        : ep.method === "POST"
          ? "0.000100"
          : "0";
      batch.push({
        apiKeyId: key.id,
        organizationId: org.id,
        endpoint: ep.path,
        method: ep.method,
        statusCode,
        responseTimeMs: latency,
        tokens,
        costUsd: cost,
        ipAddress: `203.0.113.${1 + Math.floor(random() * 200)}`,
        userAgent: "demo-client/1.0",
        errorCode:
          statusCode >= 400 ? (statusCode >= 500 ? "UPSTREAM_ERROR" : "CLIENT_ERROR") : null,
        errorMessage: null,
        createdAt: at,
      });
      if (batch.length >= 5000) {
        count += await usageRepository.createMany(db, batch);
        batch = [];
      }
    }
  }
  if (batch.length) count += await usageRepository.createMany(db, batch);
  return {
    created: true,
    slug: org.slug,
    organizationId: org.id,
    email,
    password,
    keys: keys.length,
    usageEvents: count,
  };
}

/** On first start of an empty database: seed the demo. Returns what was created, or null. */
export async function seedDemoIfEmpty(db: Db): Promise<SeedResult | null> {
  const { countOrganizations } = await import("@/lib/services/org-service");
  if ((await countOrganizations(db)) > 0) return null;
  const r = await seedDemo(db);
  return r.created ? r : null;
}
