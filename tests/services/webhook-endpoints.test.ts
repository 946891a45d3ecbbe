// The webhook endpoints service on a real database (PGlite always, PostgreSQL when DATABASE_URL is
// set): secrets shown once and stored sealed, rotation keeps the old secret for 24 h, re-enabling
// clears the failure state, the per-organization limit, resend and test events, tenancy, audit
// rows, and URL refusals with an injected resolver (no lookup ever leaves this process).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  resendWebhookDelivery,
  rotateWebhookSecret,
  sendWebhookTestEvent,
  updateWebhook,
  type WebhookUrlOptions,
} from "@/lib/services/webhooks/endpoints";
import { WEBHOOK_ENDPOINTS_MAX } from "@/lib/validation/rules";
import { openSecret } from "@/lib/webhooks/secrets";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";

const actor: Actor = { type: "user", id: randomUUID() };

/** Names resolve only through this table; anything else fails, so nothing is ever looked up. */
const hosts: Record<string, string[]> = {
  "hooks.example.com": ["93.184.215.14"],
  "sneaky.example.com": ["127.0.0.1"],
  "mixed.example.com": ["93.184.215.14", "10.0.0.7"],
  "metadata.example.com": ["169.254.169.254"],
};
const resolve: NonNullable<WebhookUrlOptions["resolve"]> = async (name: string) => {
  const list = hosts[name];
  if (!list) throw new Error(`unexpected lookup of ${name}`);
  return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }) as const);
};
const strict: WebhookUrlOptions = { resolve, allowPrivate: false };
const loopbackOk: WebhookUrlOptions = { resolve, allowPrivate: true };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return "resolved";
}

describe.each(testDbKinds)("webhook endpoints service (%s)", (kind) => {
  let t: TestDatabase;
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    const stamp = randomUUID().slice(0, 8);
    const mk = (name: string) =>
      organizationRepository.create(t.prisma, {
        name: `${name} ${stamp}`,
        email: `${name}-${stamp}@webhooks.test`,
      });
    orgA = (await mk("alpha")).id;
    orgB = (await mk("beta")).id;
    // A fresh database and its migrations: minutes on this shared, busy machine.
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  const create = (organizationId: string, url: string, opts = strict) =>
    createWebhook(
      t.prisma,
      { organizationId, url, eventTypes: ["key.created", "key.revoked"], description: "billing" },
      actor,
      opts,
    );

  it("creates an endpoint: the secret once, sealed in the database, never in a read", async () => {
    const made = await create(orgA, "https://hooks.example.com/keyward?x=1");
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(made).toMatchObject({
      url: "https://hooks.example.com/keyward?x=1",
      eventTypes: ["key.created", "key.revoked"],
      description: "billing",
      enabled: true,
      disabledReason: null,
      lastDelivery: null,
    });
    const row = await t.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: made.id } });
    expect(row.secretSealed).not.toContain(made.secret);
    expect(openSecret(row.secretSealed)).toBe(made.secret);
    const read = await getWebhook(t.prisma, orgA, made.id);
    expect(JSON.stringify(read)).not.toContain("whsec_");
    const listed = await listWebhooks(t.prisma, orgA);
    expect(listed.items.map((w) => w.id)).toContain(made.id);
    expect(JSON.stringify(listed)).not.toContain("whsec_");
    const audit = await t.prisma.auditLog.findFirstOrThrow({
      where: { organizationId: orgA, action: "webhook.created", targetId: made.id },
    });
    // The origin only: receivers sometimes put a token in the path or query.
    expect(audit.metadata).toMatchObject({ urlOrigin: "https://hooks.example.com" });
    expect(JSON.stringify(audit.metadata)).not.toContain("x=1");
    expect(JSON.stringify(audit.metadata)).not.toContain("whsec_");
  });

  it("refuses URLs by the policy: 422 codes, nothing stored", async () => {
    const before = await t.prisma.webhookEndpoint.count({ where: { organizationId: orgA } });
    const cases: [string, string, WebhookUrlOptions][] = [
      ["not a url", "WEBHOOK_URL_INVALID", strict],
      ["ftp://hooks.example.com/x", "WEBHOOK_URL_INVALID", strict],
      ["http://hooks.example.com/x", "WEBHOOK_URL_INVALID", strict],
      ["http://127.0.0.1/x", "WEBHOOK_URL_NOT_ALLOWED", strict],
      ["https://nowhere.example.com/x", "WEBHOOK_URL_INVALID", strict],
      ["https://user:pw@hooks.example.com/x", "WEBHOOK_URL_INVALID", strict],
      ["http://10.0.0.1/x", "WEBHOOK_URL_NOT_ALLOWED", loopbackOk],
      ["https://10.0.0.1/x", "WEBHOOK_URL_NOT_ALLOWED", strict],
      ["https://169.254.169.254/latest/meta-data", "WEBHOOK_URL_NOT_ALLOWED", loopbackOk],
      ["https://sneaky.example.com/x", "WEBHOOK_URL_NOT_ALLOWED", strict],
      ["https://mixed.example.com/x", "WEBHOOK_URL_NOT_ALLOWED", loopbackOk],
      ["https://metadata.example.com/x", "WEBHOOK_URL_NOT_ALLOWED", loopbackOk],
      ["https://[::1]/x", "WEBHOOK_URL_NOT_ALLOWED", strict],
      ["https://[::ffff:127.0.0.1]/x", "WEBHOOK_URL_NOT_ALLOWED", strict],
      ["https://[::ffff:10.0.0.1]/x", "WEBHOOK_URL_NOT_ALLOWED", loopbackOk],
      ["https://127.0.0.1/x", "WEBHOOK_URL_NOT_ALLOWED", strict],
    ];
    for (const [url, expected, opts] of cases) {
      expect(await code(create(orgA, url, opts)), url).toBe(expected);
    }
    expect(await code(create(orgA, "", strict))).toBe("VALIDATION_FAILED");
    expect(await t.prisma.webhookEndpoint.count({ where: { organizationId: orgA } })).toBe(before);
    // Loopback over http only with the flag.
    const local = await create(orgA, "http://127.0.0.1:9/hook", loopbackOk);
    expect(local.url).toBe("http://127.0.0.1:9/hook");
    await deleteWebhook(t.prisma, orgA, local.id, actor);
  });

  it("checks event types and the description", async () => {
    const bad = (eventTypes: string[]) =>
      code(
        createWebhook(
          t.prisma,
          { organizationId: orgA, url: "https://hooks.example.com/", eventTypes },
          actor,
          strict,
        ),
      );
    expect(await bad([])).toBe("VALIDATION_FAILED");
    expect(await bad(["key.nope"])).toBe("VALIDATION_FAILED");
    expect(await bad(["key.created", "key.created"])).toBe("VALIDATION_FAILED");
    expect(await bad(["webhook.test"])).toBe("VALIDATION_FAILED");
  });

  it("updates: URL checked again; re-enabling clears the failure state", async () => {
    const made = await create(orgA, "https://hooks.example.com/a");
    expect(
      await code(
        updateWebhook(t.prisma, orgA, made.id, { url: "https://10.1.2.3/" }, actor, strict),
      ),
    ).toBe("WEBHOOK_URL_NOT_ALLOWED");
    // What the delivery loop does after 3 days of failures.
    await t.prisma.webhookEndpoint.update({
      where: { id: made.id },
      data: { enabled: false, disabledReason: "failing", failingSince: new Date(0) },
    });
    const disabled = await getWebhook(t.prisma, orgA, made.id);
    expect(disabled).toMatchObject({ enabled: false, disabledReason: "failing" });
    const changed = await updateWebhook(
      t.prisma,
      orgA,
      made.id,
      { enabled: true, eventTypes: ["quota.threshold"], description: "ops" },
      actor,
      strict,
    );
    expect(changed).toMatchObject({
      enabled: true,
      disabledReason: null,
      failingSince: null,
      eventTypes: ["quota.threshold"],
      description: "ops",
    });
    expect(await code(updateWebhook(t.prisma, orgA, made.id, {}, actor, strict))).toBe(
      "VALIDATION_FAILED",
    );
    const audit = await t.prisma.auditLog.findFirstOrThrow({
      where: { organizationId: orgA, action: "webhook.updated", targetId: made.id },
    });
    expect(audit.metadata).toMatchObject({ enabled: true, eventTypes: ["quota.threshold"] });
  });

  it("rotates the secret: shown once, the previous one kept for 24 hours", async () => {
    const made = await create(orgA, "https://hooks.example.com/r");
    const started = Date.now();
    const rotated = await rotateWebhookSecret(t.prisma, orgA, made.id, actor);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(made.secret);
    const row = await t.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: made.id } });
    expect(openSecret(row.secretSealed)).toBe(rotated.secret);
    expect(openSecret(row.previousSecretSealed as string)).toBe(made.secret);
    const expires = row.previousSecretExpiresAt?.getTime() ?? 0;
    expect(expires).toBeGreaterThanOrEqual(started + 24 * 3_600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000 + 1000);
    expect(rotated.previousSecretExpiresAt).toBe(row.previousSecretExpiresAt?.toISOString());
    expect(
      await t.prisma.auditLog.count({
        where: { organizationId: orgA, action: "webhook.secret_rotated", targetId: made.id },
      }),
    ).toBe(1);
  });

  it("another organization's endpoint is not found, whatever the verb", async () => {
    const made = await create(orgA, "https://hooks.example.com/t");
    const verbs = [
      () => getWebhook(t.prisma, orgB, made.id),
      () => updateWebhook(t.prisma, orgB, made.id, { description: "x" }, actor, strict),
      () => rotateWebhookSecret(t.prisma, orgB, made.id, actor),
      () => listWebhookDeliveries(t.prisma, orgB, made.id),
      () => sendWebhookTestEvent(t.prisma, orgB, made.id),
      () => deleteWebhook(t.prisma, orgB, made.id, actor),
      () => getWebhook(t.prisma, orgA, "not-a-uuid"),
    ];
    for (const v of verbs) expect(await code(v())).toBe("NOT_FOUND");
    expect((await listWebhooks(t.prisma, orgB)).items.map((w) => w.id)).not.toContain(made.id);
    // Still there, unchanged.
    expect((await getWebhook(t.prisma, orgA, made.id)).description).toBe("billing");
  });

  it("test event: one delivery to this endpoint only; resend puts it back, due now", async () => {
    const target = await create(orgA, "https://hooks.example.com/test-target");
    const other = await create(orgA, "https://hooks.example.com/test-other");
    const sent = await sendWebhookTestEvent(t.prisma, orgA, target.id);
    expect(sent.delivery).toMatchObject({
      eventId: sent.eventId,
      eventType: "webhook.test",
      status: "pending",
      attempts: 0,
      attemptLog: [],
    });
    expect((await listWebhookDeliveries(t.prisma, orgA, other.id)).items).toEqual([]);
    const log = await listWebhookDeliveries(t.prisma, orgA, target.id);
    expect(log.items.map((d) => d.id)).toEqual([sent.delivery.id]);
    expect((await getWebhook(t.prisma, orgA, target.id)).lastDelivery).toMatchObject({
      status: "pending",
    });

    // As the loop leaves a delivery that failed for good.
    await t.prisma.webhookDelivery.update({
      where: { id: sent.delivery.id },
      data: {
        status: "FAILED",
        attempts: 9,
        lastStatusCode: 500,
        nextAttemptAt: new Date(Date.now() + 3_600_000),
        attemptLog: { create: { statusCode: 500, durationMs: 12, responseBody: "boom" } },
      },
    });
    const failed = (await listWebhookDeliveries(t.prisma, orgA, target.id, { status: "failed" }))
      .items[0];
    expect(failed).toMatchObject({ status: "failed", attempts: 9, nextAttemptAt: null });
    expect(failed?.attemptLog[0]).toMatchObject({ statusCode: 500, durationMs: 12 });
    const before = Date.now();
    const resent = await resendWebhookDelivery(t.prisma, orgA, target.id, sent.delivery.id);
    expect(resent).toMatchObject({ status: "pending", attempts: 0 });
    expect(new Date(resent.nextAttemptAt as string).getTime()).toBeLessThanOrEqual(Date.now());
    expect(new Date(resent.nextAttemptAt as string).getTime()).toBeGreaterThanOrEqual(
      before - 1000,
    );
    // The attempt history stays.
    expect(resent.attemptLog).toHaveLength(1);

    // In flight (claimed by a loop): not requeued under it.
    await t.prisma.webhookDelivery.update({
      where: { id: sent.delivery.id },
      data: { lockedUntil: new Date(Date.now() + 60_000) },
    });
    expect(await code(resendWebhookDelivery(t.prisma, orgA, target.id, sent.delivery.id))).toBe(
      "CONFLICT",
    );
    // Another organization, or the wrong endpoint: not found.
    expect(await code(resendWebhookDelivery(t.prisma, orgB, target.id, sent.delivery.id))).toBe(
      "NOT_FOUND",
    );
    expect(await code(resendWebhookDelivery(t.prisma, orgA, other.id, sent.delivery.id))).toBe(
      "NOT_FOUND",
    );

    // A disabled endpoint gets no test event.
    await updateWebhook(t.prisma, orgA, other.id, { enabled: false }, actor, strict);
    expect(await code(sendWebhookTestEvent(t.prisma, orgA, other.id))).toBe("CONFLICT");
  });

  it("deletes an endpoint with its deliveries, audited", async () => {
    const made = await create(orgA, "https://hooks.example.com/d");
    const sent = await sendWebhookTestEvent(t.prisma, orgA, made.id);
    const gone = await deleteWebhook(t.prisma, orgA, made.id, actor);
    expect(gone.id).toBe(made.id);
    expect(await code(getWebhook(t.prisma, orgA, made.id))).toBe("NOT_FOUND");
    expect(await t.prisma.webhookDelivery.count({ where: { id: sent.delivery.id } })).toBe(0);
    expect(await code(deleteWebhook(t.prisma, orgA, made.id, actor))).toBe("NOT_FOUND");
    expect(
      await t.prisma.auditLog.count({
        where: { organizationId: orgA, action: "webhook.deleted", targetId: made.id },
      }),
    ).toBe(1);
  });

  it(`at most ${WEBHOOK_ENDPOINTS_MAX} endpoints per organization, also when created at once`, async () => {
    const stamp = randomUUID().slice(0, 8);
    const org = await organizationRepository.create(t.prisma, {
      name: `limit ${stamp}`,
      email: `limit-${stamp}@webhooks.test`,
    });
    // Up to two below the limit one by one, then five at once: two pass, three are refused.
    for (let i = 0; i < WEBHOOK_ENDPOINTS_MAX - 2; i++) {
      await create(org.id, `https://hooks.example.com/${i}`);
    }
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => create(org.id, `https://hooks.example.com/last-${i}`)),
    );
    const reasons = results.map((r) =>
      r.status === "fulfilled"
        ? "created"
        : ((r.reason as { code?: string }).code ?? String(r.reason)),
    );
    const ok = reasons.filter((r) => r === "created").length + WEBHOOK_ENDPOINTS_MAX - 2;
    const refused = reasons.filter((r) => r === "WEBHOOK_LIMIT_REACHED").length;
    expect(reasons.sort(), reasons.join()).toEqual([
      "WEBHOOK_LIMIT_REACHED",
      "WEBHOOK_LIMIT_REACHED",
      "WEBHOOK_LIMIT_REACHED",
      "created",
      "created",
    ]);
    expect(ok).toBe(WEBHOOK_ENDPOINTS_MAX);
    expect(refused).toBe(3);
    expect(await t.prisma.webhookEndpoint.count({ where: { organizationId: org.id } })).toBe(
      WEBHOOK_ENDPOINTS_MAX,
    );
  }, 180_000);
});
