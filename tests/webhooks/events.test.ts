// Webhook events from key changes, on a real database (PGlite always, PostgreSQL when DATABASE_URL
// is set): each change writes exactly one event inside its own transaction (a change rolled back
// at commit writes none), every payload parses with its published schema and carries no key
// plaintext or hash, and ratelimit.exceeded is written once per key per 5-minute window.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db";
import { closeRateLimiter, createRateLimiter, setRateLimiter } from "@/lib/ratelimit";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { KeyCache, setKeyCache } from "@/lib/services/key-cache";
import { createKey, revokeKey, rotateKey, updateKey } from "@/lib/services/keys";
import { verifyKey } from "@/lib/services/verify";
import { isWebhookEventType } from "@/lib/services/webhooks/events";
import {
  flushRateLimitNotices,
  noteRateLimitExceeded,
} from "@/lib/services/webhooks/ratelimit-notice";
import { RATELIMIT_NOTICE_WINDOW_MS } from "@/lib/validation/rules";
import { WEBHOOK_PAYLOAD_SCHEMAS } from "@/lib/validation/webhook-events";
import type { z } from "@/lib/validation/zod";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";

const actor: Actor = { type: "user", id: "00000000-0000-4000-8000-000000000001", ip: "10.0.0.1" };

describe.each(testDbKinds)("webhook events from key changes (%s)", (kind) => {
  let t: TestDatabase;
  let db: Db;
  const run = randomUUID().slice(0, 8);
  let n = 0;
  const org = () => {
    n++;
    return organizationRepository.create(db, {
      name: `Events ${run} ${n}`,
      email: `events-${run}-${n}@example.test`,
    });
  };
  const events = (organizationId: string) =>
    db.webhookEvent.findMany({ where: { organizationId }, orderBy: { createdAt: "asc" } });

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    db = t.prisma;
  });
  afterAll(async () => {
    await closeRateLimiter();
    await t?.close();
  });
  beforeEach(() => {
    setKeyCache(new KeyCache());
    setRateLimiter(createRateLimiter({ kind: "memory", quota: "memory" }));
  });

  it("writes exactly one event per change, with parseable payloads and no secret", async () => {
    const o = await org();
    const created = await createKey(
      db,
      { organizationId: o.id, name: "svc", environment: "live", scopes: ["keys:read"] },
      actor,
    );
    expect((await events(o.id)).map((e) => e.type)).toEqual(["key.created"]);

    await updateKey(db, o.id, created.apiKey.id, { name: "svc-2", scopes: [] }, actor);
    // A change that changes nothing is no event.
    await updateKey(db, o.id, created.apiKey.id, { name: "svc-2" }, actor);
    expect((await events(o.id)).map((e) => e.type)).toEqual(["key.created", "key.updated"]);

    const rotated = await rotateKey(db, o.id, created.apiKey.id, { gracePeriod: "1h" }, actor);
    expect((await events(o.id)).map((e) => e.type)).toEqual([
      "key.created",
      "key.updated",
      "key.rotated",
    ]);

    await revokeKey(db, o.id, rotated.apiKey.id, { reason: "done" }, actor);
    // A second revocation changes nothing: no second event.
    await revokeKey(db, o.id, rotated.apiKey.id, { reason: "again" }, actor);
    const all = await events(o.id);
    expect(all.map((e) => e.type)).toEqual([
      "key.created",
      "key.updated",
      "key.rotated",
      "key.revoked",
    ]);

    const rows = await db.apiKey.findMany({ where: { organizationId: o.id } });
    const secrets = [
      created.key,
      rotated.key,
      created.key.slice(8, 30),
      rotated.key.slice(8, 30),
      ...rows.map((r) => r.keyHash),
    ];
    for (const e of all) {
      expect(isWebhookEventType(e.type)).toBe(true);
      if (!isWebhookEventType(e.type)) continue;
      const parsed = WEBHOOK_PAYLOAD_SCHEMAS[e.type].safeParse(e.payload);
      expect(parsed.success, `${e.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      const text = JSON.stringify(e.payload);
      for (const s of secrets) expect(text).not.toContain(s);
      expect(text).not.toContain("keyHash");
    }
    const payloadOf = <T extends "key.updated" | "key.rotated" | "key.revoked">(
      i: number,
      type: T,
    ) =>
      WEBHOOK_PAYLOAD_SCHEMAS[type].parse(all[i].payload) as z.output<
        (typeof WEBHOOK_PAYLOAD_SCHEMAS)[T]
      >;
    const updated = payloadOf(1, "key.updated");
    const rotatedEvent = payloadOf(2, "key.rotated");
    const revoked = payloadOf(3, "key.revoked");
    expect(updated.changes).toEqual({
      name: { from: "svc", to: "svc-2" },
      scopes: { from: ["keys:read"], to: [] },
    });
    expect(rotatedEvent.newKeyId).toBe(rotated.apiKey.id);
    expect(rotatedEvent.key.id).toBe(created.apiKey.id);
    expect(rotatedEvent.gracePeriod).toBe("1h");
    expect(revoked).toMatchObject({ reason: "done", key: { id: rotated.apiKey.id } });
  });

  it("a change rolled back writes no event, and a failed event write rolls the change back", async () => {
    const o = await org();
    // Refuses the webhook event of this organization: the last write of the change's transaction.
    await db.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION kw_test_refuse_event() RETURNS trigger AS $$
      BEGIN
        IF NEW."organizationId" = '${o.id}'::uuid THEN
          RAISE EXCEPTION 'refused at commit';
        END IF;
        RETURN NULL;
      END $$ LANGUAGE plpgsql`);
    await db.$executeRawUnsafe(`
      CREATE TRIGGER kw_test_refuse_event AFTER INSERT ON "WebhookEvent"
      FOR EACH ROW EXECUTE FUNCTION kw_test_refuse_event()`);
    try {
      await expect(
        createKey(db, { organizationId: o.id, name: "lost", environment: "live" }, actor),
      ).rejects.toThrow(/refused at commit/);
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER kw_test_refuse_event ON "WebhookEvent"`);
    }
    expect(await db.apiKey.count({ where: { organizationId: o.id } })).toBe(0);
    expect(
      await db.auditLog.count({ where: { organizationId: o.id, action: "key.created" } }),
    ).toBe(0);
    expect(await events(o.id)).toEqual([]);
    expect(await db.webhookEventMark.count({ where: { organizationId: o.id } })).toBe(0);
    // The same change with the trigger gone writes its one event.
    const kept = await createKey(
      db,
      { organizationId: o.id, name: "kept", environment: "live" },
      actor,
    );
    expect((await events(o.id)).map((e) => e.type)).toEqual(["key.created"]);
    // A change refused inside its transaction (a revoked key cannot change) writes none.
    await revokeKey(db, o.id, kept.apiKey.id, {}, actor);
    await expect(updateKey(db, o.id, kept.apiKey.id, { name: "x" }, actor)).rejects.toThrow(
      /revoked key cannot be changed/,
    );
    await expect(rotateKey(db, o.id, kept.apiKey.id, {}, actor)).rejects.toThrow(/active key/);
    expect((await events(o.id)).map((e) => e.type)).toEqual(["key.created", "key.revoked"]);
  });

  it("ratelimit.exceeded: once per key per 5 minutes, however many refusals", async () => {
    const o = await org();
    const { key, apiKey } = await createKey(
      db,
      { organizationId: o.id, name: "busy", environment: "live", rateLimitPerMinute: 2 },
      actor,
    );
    const codes: string[] = [];
    for (let i = 0; i < 40; i++) codes.push((await verifyKey(db, { key })).code);
    expect(codes.filter((c) => c === "VALID")).toHaveLength(2);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(38);
    await flushRateLimitNotices();
    const notices = (await events(o.id)).filter((e) => e.type === "ratelimit.exceeded");
    expect(notices).toHaveLength(1);
    const payload = WEBHOOK_PAYLOAD_SCHEMAS["ratelimit.exceeded"].parse(notices[0].payload);
    expect(payload.key).toEqual({
      id: apiKey.id,
      name: "busy",
      prefix: apiKey.prefix,
      hint: apiKey.hint,
      environment: "live",
    });
    expect(payload.limitPerMinute).toBe(2);
    expect(JSON.stringify(notices[0].payload)).not.toContain(key.slice(8, 30));

    // The next window gets one more; another instance (no memo) in the same window gets none.
    const cached = {
      id: apiKey.id,
      organizationId: o.id,
      keyHash: "x",
      name: "busy",
      prefix: apiKey.prefix,
      hint: apiKey.hint,
      environment: "live" as const,
      status: "active" as const,
      scopes: [],
      expiresAt: null,
      rateLimitPerMinute: 2,
      credits: null,
      spendLimitMicros: null,
      allowlist: null,
      externalId: null,
      meta: null,
      organization: {} as never,
    };
    const later = Date.now() + RATELIMIT_NOTICE_WINDOW_MS;
    noteRateLimitExceeded(db, cached, 2, { now: later });
    noteRateLimitExceeded(db, cached, 2, { now: later + 1 });
    await flushRateLimitNotices();
    const windowOf = (e: { payload: unknown }) =>
      (e.payload as { windowStart: string }).windowStart;
    const after = (await events(o.id)).filter((e) => e.type === "ratelimit.exceeded");
    expect(after).toHaveLength(2);
    expect(new Set(after.map(windowOf)).size).toBe(2);
  });
});
