// API test setup: fixtures are built through the key service into a fresh embedded data folder,
// the folder is closed, then the real server (tests/helpers/server.ts) starts on it.
import { cpSync } from "node:fs";
import { openDatabase } from "@/lib/db";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { createKey } from "@/lib/services/keys";
import { createServiceCredential } from "@/lib/services/service-credentials";
import { copyMigratedDatabase } from "@/tests/helpers/pglite-template";
import {
  type StartOptions,
  startServer,
  type TestServer,
  tempDataDir,
} from "@/tests/helpers/server";

export const ALL_SCOPES = ["keys:read", "keys:write", "usage:read", "usage:write"];
const WEBHOOK_SCOPES = ["webhooks:read", "webhooks:write"];
const actor: Actor = { type: "system", id: "api-tests" };

export interface Fixtures {
  orgA: string;
  orgB: string;
  keys: {
    admin: { key: string; id: string };
    readOnly: { key: string; id: string };
    noScopes: { key: string; id: string };
    test: { key: string; id: string };
    revoked: { key: string; id: string };
    expiring: { key: string; id: string; expiresAt: Date };
    limited: { key: string; id: string };
    otherOrg: { key: string; id: string };
    otherOrgTarget: { key: string; id: string };
    liveTarget: { key: string; id: string };
    quota: { key: string; id: string };
    inactive: { key: string; id: string };
    fuzz: { key: string; id: string };
    /** webhooks:read and webhooks:write, in A; `webhooksRead` only reads; `webhooksTest` is a
     *  test key; `otherOrgWebhooks` is B's. */
    webhooks: { key: string; id: string };
    webhooksRead: { key: string; id: string };
    webhooksTest: { key: string; id: string };
    otherOrgWebhooks: { key: string; id: string };
  };
  /** Service credentials (`ksvc_…`, usage:report): one for every organization, one held to A's. */
  services: {
    all: { secret: string; id: string };
    orgA: { secret: string; id: string };
  };
  /** Every plaintext key made in setup: none may appear in the database or the log. */
  plaintexts: string[];
}

export async function seedFixtures(dataDir: string, expiringInMs = 4000): Promise<Fixtures> {
  // The run's migrated template (tests/helpers/pglite-template.ts): no initdb, no migrations.
  await copyMigratedDatabase(dataDir);
  const open = await openDatabase({ kind: "pglite", dataDir }, { shortLived: true });
  const db = open.prisma;
  try {
    const stamp = Date.now();
    const mkOrg = (
      name: string,
      extra: Parameters<typeof organizationRepository.create>[1] extends infer T
        ? Partial<T>
        : never = {},
    ) =>
      organizationRepository.create(db, {
        name: `${name} ${stamp}`,
        email: `${name.toLowerCase()}-${stamp}@example.test`,
        maxActiveKeys: 100,
        ...extra,
      });
    const a = await mkOrg("Alpha", { plan: "ENTERPRISE" });
    const b = await mkOrg("Beta", { plan: "ENTERPRISE" });
    const q = await mkOrg("Quota", { monthlyQuota: 3 });
    const inactive = await mkOrg("Inactive");
    const plaintexts: string[] = [];
    const mk = async (
      org: string,
      name: string,
      environment: "live" | "test",
      scopes: string[],
      extra: { expiresAt?: Date; rateLimitPerMinute?: number } = {},
    ) => {
      const r = await createKey(
        db,
        { organizationId: org, name, environment, scopes, ...extra },
        actor,
      );
      plaintexts.push(r.key);
      return { key: r.key, id: r.apiKey.id };
    };
    // Its expiry counts from its own creation: on a busy machine the keys before it take seconds.
    const expiringKey = async () => {
      const expiresAt = new Date(Date.now() + expiringInMs);
      return { ...(await mk(a.id, "expiring", "live", ALL_SCOPES, { expiresAt })), expiresAt };
    };
    const keys = {
      // Also a custom scope: a key grants only scopes it holds (PRODUCT.md section 8).
      admin: await mk(a.id, "admin", "live", [...ALL_SCOPES, "billing:charge"]),
      readOnly: await mk(a.id, "read-only", "live", ["keys:read", "usage:read"]),
      noScopes: await mk(a.id, "no-scopes", "live", []),
      test: await mk(a.id, "test-admin", "test", ALL_SCOPES),
      revoked: await mk(a.id, "revoked", "live", ALL_SCOPES),
      expiring: await expiringKey(),
      limited: await mk(a.id, "limited", "live", ALL_SCOPES, { rateLimitPerMinute: 3 }),
      liveTarget: await mk(a.id, "live-target", "live", ["x:y"]),
      otherOrg: await mk(b.id, "b-admin", "live", ALL_SCOPES),
      otherOrgTarget: await mk(b.id, "b-target", "live", []),
      quota: await mk(q.id, "quota", "live", ALL_SCOPES, { rateLimitPerMinute: 1000 }),
      inactive: await mk(inactive.id, "inactive", "live", ALL_SCOPES),
      fuzz: await mk(a.id, "fuzz", "live", ALL_SCOPES, { rateLimitPerMinute: 1_000_000 }),
      webhooks: await mk(a.id, "webhooks", "live", WEBHOOK_SCOPES, { rateLimitPerMinute: 100_000 }),
      webhooksRead: await mk(a.id, "webhooks-read", "live", ["webhooks:read"]),
      webhooksTest: await mk(a.id, "webhooks-test", "test", WEBHOOK_SCOPES),
      otherOrgWebhooks: await mk(b.id, "b-webhooks", "live", WEBHOOK_SCOPES),
    };
    const { revokeKey } = await import("@/lib/services/keys");
    await revokeKey(db, a.id, keys.revoked.id, { reason: "fixture" }, actor);
    await organizationRepository.update(db, inactive.id, { isActive: false });
    const mkService = async (name: string, orgSlug?: string) => {
      const r = await createServiceCredential(
        db,
        { name, scopes: ["usage:report"], orgSlug },
        actor,
      );
      plaintexts.push(r.secret);
      return { secret: r.secret, id: r.credential.id };
    };
    const services = {
      all: await mkService("metering"),
      orgA: await mkService("metering-alpha", a.slug),
    };
    return { orgA: a.id, orgB: b.id, keys, services, plaintexts };
  } finally {
    await open.close();
  }
}

export interface Api {
  server: TestServer;
  fx: Fixtures;
  url: string;
  call(
    method: string,
    path: string,
    opts?: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  ): Promise<{ status: number; headers: Headers; body: any; text: string }>;
}

export async function startApi(opts: StartOptions & { expiringInMs?: number } = {}): Promise<Api> {
  const dataDir = tempDataDir();
  const fx = await seedFixtures(dataDir, opts.expiringInMs);
  return serveApi(fx, { ...opts, dataDir });
}

/**
 * The same fixtures served twice: one seeded folder copied, one server on each copy (`opts` for
 * the first, `other` for the second), so the two answer the same keys with the same ids.
 */
export async function startApiPair(
  opts: StartOptions,
  other: StartOptions,
  expiringInMs?: number,
): Promise<[Api, Api]> {
  const dataDir = tempDataDir();
  const fx = await seedFixtures(dataDir, expiringInMs);
  const copy = tempDataDir();
  cpSync(dataDir, copy, { recursive: true });
  return Promise.all([
    serveApi(fx, { ...opts, dataDir }),
    serveApi(fx, { ...other, dataDir: copy }),
  ]);
}

async function serveApi(fx: Fixtures, opts: StartOptions): Promise<Api> {
  // The API tests stand for a deployment behind one proxy, so X-Forwarded-For names the
  // client (tests/api/client-address.test.ts covers the default, where it is ignored).
  const server = await startServer({
    ...opts,
    env: { KEYWARD_TRUST_PROXY: "1", ...opts.env },
  });
  return {
    server,
    fx,
    url: server.url,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.key !== undefined) headers.authorization = `Bearer ${o.key}`;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers["content-type"] ??= "application/json";
      }
      const res = await fetch(server.url + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      // biome-ignore lint/suspicious/noExplicitAny: see above
      return { status: res.status, headers: res.headers, body: parsed as any, text };
    },
  };
}
