// Leak defence on a real database (PGlite always, PostgreSQL when DATABASE_URL is set): verify
// refuses a bad-checksum key with no query and no cache touch, keys issued before the checksum
// keep working while they exist, and a leak report applies the organization's policy once
// (revoke or flag, audit, webhook event, mail to owners and admins), never across organizations.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db";
import { generateKey, hashKey, hasValidChecksum } from "@/lib/keys";
import { closeRateLimiter } from "@/lib/ratelimit";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { membershipRepository } from "@/lib/repositories/membership-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { userRepository } from "@/lib/repositories/user-repository";
import { type Actor, systemActor } from "@/lib/services/actor";
import { type CachedKey, type CacheLookup, KeyCache, setKeyCache } from "@/lib/services/key-cache";
import { createKey, getKey, revokeKey } from "@/lib/services/keys";
import { applyLeakReport, settleLeakReports } from "@/lib/services/leaks/apply-leak";
import { setLeakPolicy } from "@/lib/services/leaks/leak-policy";
import { verifyKey } from "@/lib/services/verify";
import { recountLegacyKeys } from "@/lib/services/verify/legacy-keys";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { readOutbox } from "@/tests/helpers/mail";

const actor: Actor = { type: "system", id: "leak-tests" };
const reporter: Actor = { type: "system", id: "leak-report", ip: "203.0.113.9" };
const dataDir = mkdtempSync(path.join(os.tmpdir(), "kw-leaks-"));

/** A cache that counts what verify asks of it. */
class CountingCache extends KeyCache {
  calls = 0;
  override get(hash: string): CacheLookup {
    this.calls++;
    return super.get(hash);
  }
  override set(hash: string, value: CachedKey | null): void {
    this.calls++;
    super.set(hash, value);
  }
}

/** `db` with every query counted (raw ones too). */
function counted(db: Db): { db: Db; count: () => number } {
  let n = 0;
  const ext = db.$extends({
    query: {
      async $allOperations({ args, query }) {
        n++;
        return query(args);
      },
    },
  });
  return { db: ext as unknown as Db, count: () => n };
}

/** A key whose token is 32 random bytes: what Keyward issued before the checksum. */
function legacyKey(): string {
  for (;;) {
    const key = `pk_live_${randomBytes(32).toString("base64url")}`;
    if (!hasValidChecksum(key)) return key;
  }
}

/** A well-formed key whose checksum fails (the last character changed). */
function badChecksum(): string {
  const { key } = generateKey("live");
  return key.slice(0, -1) + (key.endsWith("A") ? "E" : "A");
}

describe.each(testDbKinds)("leak defence (%s)", (kind) => {
  let t: TestDatabase;
  let db: Db;
  let n = 0;
  beforeAll(async () => {
    process.env.KEYWARD_DATA_DIR = dataDir;
    t = await createTestDatabase(kind);
    db = t.prisma;
  });
  afterAll(async () => {
    await settleLeakReports();
    await closeRateLimiter();
    await t?.close();
  });

  async function org(leakAction?: "REVOKE" | "NOTIFY") {
    n++;
    const stamp = `${kind}-${n}-${Date.now()}`;
    const o = await organizationRepository.create(db, {
      name: `Leak ${stamp}`,
      email: `leak-${stamp}@example.test`,
    });
    const emails: Record<string, string> = {};
    for (const role of ["OWNER", "ADMIN", "VIEWER"] as const) {
      const u = await userRepository.create(db, {
        email: `${role.toLowerCase()}-${stamp}@example.test`,
      });
      await membershipRepository.add(db, { organizationId: o.id, userId: u.id, role });
      emails[role] = u.email;
    }
    if (leakAction) await setLeakPolicy(db, o.id, leakAction, actor, "OWNER");
    return { id: o.id, emails };
  }

  it("refuses a bad-checksum key without a query or a cache lookup when no legacy key exists", async () => {
    const o = await org();
    const good = await createKey(
      db,
      { organizationId: o.id, name: "good", environment: "live" },
      actor,
    );
    expect(await recountLegacyKeys(db)).toBe(false);
    const cache = new CountingCache();
    setKeyCache(cache);
    const c = counted(db);
    for (let i = 0; i < 50; i++) {
      const out = await verifyKey(c.db, { key: badChecksum() });
      expect(out.code).toBe("INVALID_FORMAT");
    }
    expect(c.count()).toBe(0);
    expect(cache.calls).toBe(0);
    // The same counters do see a real lookup.
    expect((await verifyKey(c.db, { key: good.key })).code).toBe("VALID");
    expect(c.count()).toBeGreaterThan(0);
    expect(cache.calls).toBeGreaterThan(0);
  });

  it("keeps legacy keys working, and looks bad checksums up only while legacy keys exist", async () => {
    const o = await org();
    const legacy = legacyKey();
    const row = await apiKeyRepository.create(db, {
      organizationId: o.id,
      name: "issued before the checksum",
      keyHash: hashKey(legacy),
      prefix: "pk_live_",
      hint: legacy.slice(-4),
      environment: "LIVE",
    });
    expect(row.checksummed).toBe(false);
    expect(await recountLegacyKeys(db)).toBe(true);
    setKeyCache(new KeyCache());
    expect((await verifyKey(db, { key: legacy })).code).toBe("VALID");
    const c = counted(db);
    expect((await verifyKey(c.db, { key: badChecksum() })).code).toBe("NOT_FOUND");
    expect(c.count()).toBe(1);

    // Once it is revoked no usable legacy key is left: bad checksums cost nothing again.
    await revokeKey(db, o.id, row.id, { reason: "replaced" }, actor);
    expect(await recountLegacyKeys(db)).toBe(false);
    const c2 = counted(db);
    expect((await verifyKey(c2.db, { key: badChecksum() })).code).toBe("INVALID_FORMAT");
    expect(c2.count()).toBe(0);
  });

  it("revokes a reported key under REVOKE, once, with audit, event and mail to owners and admins", async () => {
    const o = await org();
    const other = await org();
    const k = await createKey(db, { organizationId: o.id, name: "ci", environment: "live" }, actor);
    const bystander = await createKey(
      db,
      { organizationId: other.id, name: "other", environment: "live" },
      actor,
    );
    const report = { key: k.key, source: "pastebin", url: "https://pastebin.example/abc" };
    expect(await applyLeakReport(db, report, reporter)).toBe("revoked");
    const view = await getKey(db, o.id, k.apiKey.id);
    expect(view.status).toBe("revoked");
    expect(view.revokedReason).toBe("reported leaked");
    expect(view.leak).toMatchObject({ source: "pastebin", url: "https://pastebin.example/abc" });
    expect((await verifyKey(db, { key: k.key })).code).toBe("REVOKED");

    // Replayed: nothing more happens.
    expect(await applyLeakReport(db, { ...report, source: "again" }, reporter)).toBe("reported");
    expect((await getKey(db, o.id, k.apiKey.id)).leak?.source).toBe("pastebin");

    const audit = await db.auditLog.findMany({
      where: { organizationId: o.id, action: "key.leaked" },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.targetId).toBe(k.apiKey.id);
    expect(JSON.stringify(audit[0]!.metadata)).not.toContain(k.key);
    const revokedAudit = await db.auditLog.count({
      where: { organizationId: o.id, action: "key.revoked", targetId: k.apiKey.id },
    });
    expect(revokedAudit).toBe(1);
    const events = await db.webhookEvent.findMany({
      where: { organizationId: o.id, type: "key.leaked" },
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({
      key: { id: k.apiKey.id, prefix: "pk_live_", hint: k.key.slice(-4) },
      source: "pastebin",
      action: "revoked",
    });
    expect(JSON.stringify(events[0]!.payload)).not.toContain(k.key);
    expect(JSON.stringify(events[0]!.payload)).not.toContain(hashKey(k.key));

    await settleLeakReports();
    const mail = (await readOutbox(path.join(dataDir, "outbox"))).filter((m) =>
      m.text.includes(k.key.slice(-4)),
    );
    expect(mail.map((m) => m.to).sort()).toEqual([o.emails.ADMIN, o.emails.OWNER].sort());
    for (const m of mail) expect(m.raw).not.toContain(k.key);

    // The other organization saw nothing.
    expect((await getKey(db, other.id, bystander.apiKey.id)).status).toBe("active");
    expect(
      await db.auditLog.count({ where: { organizationId: other.id, action: "key.leaked" } }),
    ).toBe(0);
    // Its own key.created is all it has: no leak and no revocation reached it.
    expect(
      await db.webhookEvent.count({
        where: { organizationId: other.id, type: { in: ["key.leaked", "key.revoked"] } },
      }),
    ).toBe(0);
    // The revocation itself sent key.revoked, in the leak report's transaction.
    expect(
      await db.webhookEvent.count({ where: { organizationId: o.id, type: "key.revoked" } }),
    ).toBe(1);
  });

  it("only flags a reported key under NOTIFY: it keeps working", async () => {
    const o = await org("NOTIFY");
    const k = await createKey(
      db,
      { organizationId: o.id, name: "web", environment: "test" },
      actor,
    );
    expect(await applyLeakReport(db, { key: k.key }, reporter)).toBe("flagged");
    const view = await getKey(db, o.id, k.apiKey.id);
    expect(view.status).toBe("active");
    expect(view.leak).toMatchObject({ source: null, url: null });
    setKeyCache(new KeyCache());
    expect((await verifyKey(db, { key: k.key })).code).toBe("VALID");
    const events = await db.webhookEvent.findMany({
      where: { organizationId: o.id, type: "key.leaked" },
    });
    expect(events[0]!.payload).toMatchObject({ action: "flagged" });
    expect(await applyLeakReport(db, { key: k.key }, reporter)).toBe("reported");
  });

  it("answers unknown for what is not a key, without a write", async () => {
    for (const key of ["nope", badChecksum(), generateKey("live").key, legacyKey()]) {
      expect(await applyLeakReport(db, { key }, reporter)).toBe("unknown");
    }
  });

  it("lets only owners change the leak policy, and audits it", async () => {
    const o = await org();
    await expect(setLeakPolicy(db, o.id, "NOTIFY", actor, "ADMIN")).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect((await organizationRepository.getById(db, o.id))?.leakAction).toBe("REVOKE");
    await setLeakPolicy(db, o.id, "NOTIFY", systemActor, "OWNER");
    expect((await organizationRepository.getById(db, o.id))?.leakAction).toBe("NOTIFY");
    const audit = await db.auditLog.findMany({
      where: { organizationId: o.id, action: "org.updated" },
    });
    expect(audit.at(-1)?.metadata).toMatchObject({ leakAction: { from: "REVOKE", to: "NOTIFY" } });
  });
});
