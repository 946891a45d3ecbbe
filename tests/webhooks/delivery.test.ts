// The delivery loop (lib/services/webhooks/delivery.ts) on a real database (PGlite always,
// PostgreSQL when DATABASE_URL is set) sending to a real receiver on 127.0.0.1, with shortened
// timeouts and retry schedule. Counts and order are asserted, never wall-clock durations,
// except lower bounds (a retry can only come later than scheduled, never earlier).
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db";
import { OutboxSender } from "@/lib/mail/outbox";
import { membershipRepository } from "@/lib/repositories/membership-repository";
import { userRepository } from "@/lib/repositories/user-repository";
import { webhookRepository } from "@/lib/repositories/webhook-repository";
import {
  createDeliveryLoop,
  type DeliveryLoop,
  type DeliveryLoopOptions,
  retryDelayMs,
} from "@/lib/services/webhooks/delivery";
import { generateWebhookSecret, sealSecret } from "@/lib/webhooks/secrets";
import { type Connect, defaultConnect } from "@/lib/webhooks/send";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { readOutbox } from "@/tests/helpers/mail";
import { enqueueMany, orgWithEndpoint, type Receiver, startReceiver } from "./support";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fails the test on any connection attempt to anything but loopback. */
const loopbackOnly: Connect = (t) => {
  if (t.address !== "127.0.0.1" && t.address !== "::1") {
    throw new Error(`connect attempted to ${t.address}`);
  }
  return defaultConnect(t);
};

const fast = {
  allowPrivate: true,
  connect: loopbackOnly,
  pollMs: 50,
  timeoutMs: 2_000,
  retry: { baseMs: 200, minMs: 100, maxMs: 1_000, windowMs: 60_000 },
  log: () => {},
} satisfies Partial<DeliveryLoopOptions>;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("retryDelayMs", () => {
  it("grows exponentially under full jitter, floored and capped", () => {
    const s = { baseMs: 10_000, maxMs: 3_600_000, minMs: 1_000, windowMs: 86_400_000 };
    expect(retryDelayMs(1, s, () => 0.999999)).toBe(9_999);
    expect(retryDelayMs(3, s, () => 0.5)).toBe(20_000);
    expect(retryDelayMs(1, s, () => 0)).toBe(1_000);
    expect(retryDelayMs(40, s, () => 0.999999)).toBe(3_599_996);
  });
});

describe.each(testDbKinds)("webhook delivery loop on %s", (kind) => {
  let t: TestDatabase;
  let db: Db;
  const loops: DeliveryLoop[] = [];
  const receivers: Receiver[] = [];
  const run = (extra: Partial<DeliveryLoopOptions> = {}) => {
    const loop = createDeliveryLoop({ db, ...fast, ...extra });
    loops.push(loop);
    loop.start();
    return loop;
  };
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };

  // Migrating a fresh PGlite can take minutes on a loaded 2-core machine.
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    db = t.prisma;
  }, 300_000);
  afterAll(async () => {
    // Long enough for an in-flight claim to finish on a loaded machine before the database goes.
    await Promise.all(loops.map((l) => l.stop(10_000)));
    await Promise.all(receivers.map((r) => r.close()));
    await t?.close();
  });

  it("delivers every event once, signed; the library verifies each", async () => {
    const rx = await receiver();
    const { org, endpoint, secret } = await orgWithEndpoint(db, `${rx.url}/hook`);
    const ids = await enqueueMany(db, org.id, 20);
    const loop = run();
    await rx.waitFor(20);
    await until("all delivered", async () => {
      const n = await db.webhookDelivery.count({
        where: { endpointId: endpoint.id, status: "DELIVERED" },
      });
      return n === 20;
    });
    await loop.stop();
    const wh = new Webhook(secret);
    const seen = rx.received.map((r) => {
      const payload = wh.verify(r.body, r.headers) as { type: string; data: unknown };
      expect(payload.type).toBe("key.created");
      return r.headers["webhook-id"];
    });
    expect(new Set(seen).size).toBe(20);
    expect(new Set(seen)).toEqual(new Set(ids.map((id) => `msg_${id.replaceAll("-", "")}`)));
    const d = await db.webhookDelivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(d).toMatchObject({
      attempts: 1,
      lastStatusCode: 200,
      lockedUntil: null,
      lastError: null,
    });
    expect(d.deliveredAt).not.toBeNull();
  });

  it("signs with the old and the new secret during the 24 h after a rotation", async () => {
    const rx = await receiver();
    const { org, endpoint, secret: oldSecret } = await orgWithEndpoint(db, `${rx.url}/rot`);
    const newSecret = generateWebhookSecret();
    await db.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: {
        secretSealed: sealSecret(newSecret),
        previousSecretSealed: sealSecret(oldSecret),
        previousSecretExpiresAt: new Date(Date.now() + 24 * 3_600_000),
      },
    });
    await enqueueMany(db, org.id, 1);
    const loop = run();
    await rx.waitFor(1);
    const [r] = rx.received;
    expect(r?.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(new Webhook(newSecret).verify(r?.body ?? "", r?.headers ?? {})).toBeTruthy();
    expect(new Webhook(oldSecret).verify(r?.body ?? "", r?.headers ?? {})).toBeTruthy();

    // Past the 24 h, only the new secret signs.
    await db.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: { previousSecretExpiresAt: new Date(Date.now() - 1_000) },
    });
    await enqueueMany(db, org.id, 1);
    await rx.waitFor(2);
    const second = rx.received[1];
    expect(second?.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(new Webhook(newSecret).verify(second?.body ?? "", second?.headers ?? {})).toBeTruthy();
    expect(() =>
      new Webhook(oldSecret).verify(second?.body ?? "", second?.headers ?? {}),
    ).toThrow();
    await loop.stop();
  });

  it("retries 500, 500, 500 with backoff between, then marks it delivered on the 200", async () => {
    const rx = await receiver((r) => (r.n <= 3 ? { status: 500, body: "busy" } : { status: 200 }));
    const { org, endpoint } = await orgWithEndpoint(db, `${rx.url}/flaky`);
    await enqueueMany(db, org.id, 1);
    const loop = run();
    await rx.waitFor(4);
    const d = await until("delivered", async () => {
      const row = await db.webhookDelivery.findFirst({ where: { endpointId: endpoint.id } });
      return row?.status === "DELIVERED" ? row : undefined;
    });
    await loop.stop();
    expect(rx.received).toHaveLength(4);
    expect(new Set(rx.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    // Each retry waited at least the schedule's floor (100 ms): lower bounds hold under load.
    for (let i = 1; i < 4; i++) {
      expect(rx.received[i]!.at - rx.received[i - 1]!.at).toBeGreaterThanOrEqual(95);
    }
    expect(d.attempts).toBe(4);
    const attempts = await db.webhookAttempt.findMany({
      where: { deliveryId: d.id },
      orderBy: { attemptedAt: "asc" },
    });
    expect(attempts.map((a) => a.statusCode)).toEqual([500, 500, 500, 200]);
    expect(attempts[0]?.responseBody).toBe("busy");
    const ep = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(ep.failingSince).toBeNull();
    expect(ep.enabled).toBe(true);
  });

  it("gives up after the retry window: FAILED", async () => {
    const rx = await receiver(() => ({ status: 503 }));
    const { org, endpoint } = await orgWithEndpoint(db, `${rx.url}/down`);
    await enqueueMany(db, org.id, 1);
    const loop = run({ retry: { baseMs: 100, minMs: 100, maxMs: 200, windowMs: 600 } });
    const d = await until("failed", async () => {
      const row = await db.webhookDelivery.findFirst({ where: { endpointId: endpoint.id } });
      return row?.status === "FAILED" ? row : undefined;
    });
    await loop.stop();
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(rx.received.length).toBe(d.attempts);
    const ep = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(ep.failingSince).not.toBeNull();
  });

  it("disables an endpoint failing for 3 days, mails its owners and admins, sends it nothing more", async () => {
    const rx = await receiver(() => ({ status: 500 }));
    const { org, endpoint } = await orgWithEndpoint(db, `${rx.url}/dead`);
    const stamp = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    for (const role of ["OWNER", "ADMIN", "VIEWER"] as const) {
      const user = await userRepository.create(db, {
        email: `${role.toLowerCase()}-${stamp}@example.test`,
      });
      await membershipRepository.add(db, { organizationId: org.id, userId: user.id, role });
    }
    await db.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: { failingSince: new Date(Date.now() - 3 * 24 * 3_600_000 - 60_000) },
    });
    await enqueueMany(db, org.id, 1);
    const outbox = mkdtempSync(path.join(os.tmpdir(), "kw-wh-mail-"));
    const loop = run({ mail: new OutboxSender(outbox, "Keyward <k@localhost>", () => {}) });
    await rx.waitFor(1);
    const ep = await until("disabled", async () => {
      const row = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
      return row.enabled ? undefined : row;
    });
    expect(ep.disabledReason).toBe("failing");
    const mails = await until("mails", async () => {
      const m = await readOutbox(outbox);
      return m.length >= 2 ? m : undefined;
    });
    expect(mails.map((m) => m.to).sort()).toEqual(
      [`admin-${stamp}@example.test`, `owner-${stamp}@example.test`].sort(),
    );
    expect(mails[0]?.subject).toMatch(/disabled/);
    // A delivery still pending for it (enqueued before it was disabled) waits, unsent.
    await webhookRepository.insertEvent(db, {
      organizationId: org.id,
      type: "key.created",
      payload: { key: { id: "late" } },
      endpointIds: [endpoint.id],
    });
    await sleep(500);
    await loop.stop();
    expect(rx.received).toHaveLength(1);
  });

  it("refuses, at delivery time, an endpoint whose name resolves to a private address", async () => {
    let connects = 0;
    const { org, endpoint } = await orgWithEndpoint(db, "https://hooks.example.test/in");
    await enqueueMany(db, org.id, 1);
    const loop = run({
      resolve: async () => [{ address: "169.254.169.254", family: 4 }],
      connect: (target) => {
        connects++;
        throw new Error(`connect attempted to ${target.address}`);
      },
    });
    const d = await until("attempted", async () => {
      const row = await db.webhookDelivery.findFirst({ where: { endpointId: endpoint.id } });
      return row && row.attempts > 0 ? row : undefined;
    });
    await loop.stop();
    expect(connects).toBe(0);
    expect(d.status).toBe("PENDING");
    expect(d.lastError).toMatch(/^refused/);
  });

  it("one slow endpoint does not hold back another organization's", async () => {
    const slow = await receiver(() => undefined); // never answers: cut at the timeout
    const quick = await receiver();
    const a = await orgWithEndpoint(db, `${slow.url}/slow`);
    const b = await orgWithEndpoint(db, `${quick.url}/quick`);
    await enqueueMany(db, a.org.id, 10);
    await enqueueMany(db, b.org.id, 5);
    const loop = run({ concurrency: 4, perEndpoint: 2, timeoutMs: 20_000 });
    // All five of B arrive while A's two slots hang on its receiver.
    await quick.waitFor(5, 15_000);
    await until("B delivered", async () => {
      const n = await db.webhookDelivery.count({
        where: { endpointId: b.endpoint.id, status: "DELIVERED" },
      });
      return n === 5;
    });
    // A holds exactly its two slots, hanging; nothing else is in flight.
    expect(slow.received.length).toBe(2);
    await until("only A's two in flight", async () => loop.inFlight === 2);
    await loop.stop(100);
    // Stopped with A's attempts still hanging: their leases remain and run out later.
    const pending = await db.webhookDelivery.count({
      where: { endpointId: a.endpoint.id, status: "PENDING" },
    });
    expect(pending).toBe(10);
    await db.webhookEndpoint.update({ where: { id: a.endpoint.id }, data: { enabled: false } });
  });

  it(`delivers 1,000 events with ${kind === "postgres" ? "two loops (two clients)" : "one loop"}: none lost, none twice`, async () => {
    const rx = await receiver();
    const { org, endpoint } = await orgWithEndpoint(db, `${rx.url}/bulk`);
    // Enqueue in one transaction per 100 (quicker than 1,000 round trips each).
    for (let i = 0; i < 10; i++) {
      await db.$transaction((tx) => enqueueMany(tx, org.id, 100), { timeout: 60_000 });
    }
    const extra: { close(): Promise<void> }[] = [];
    // A generous timeout: on a loaded machine a 2 s cut could retry a delivery the receiver
    // already has, which is correct (at least once) but not what this test counts.
    const bulk = { concurrency: 10, perEndpoint: 10, timeoutMs: 30_000 };
    run(bulk);
    if (kind === "postgres" && t.url) {
      const second = await createTestDatabaseClient(t.url);
      extra.push(second);
      run({ db: second.prisma, ...bulk });
    }
    await until(
      "all delivered",
      async () =>
        (await db.webhookDelivery.count({
          where: { endpointId: endpoint.id, status: "DELIVERED" },
        })) === 1_000,
      420_000,
    );
    await Promise.all(loops.map((l) => l.stop(2_000)));
    await Promise.all(extra.map((e) => e.close()));
    const ids = rx.received.map((r) => r.headers["webhook-id"]);
    expect(ids).toHaveLength(1_000);
    expect(new Set(ids).size).toBe(1_000);
    const attempts = await db.webhookAttempt.count({
      where: { delivery: { endpointId: endpoint.id } },
    });
    expect(attempts).toBe(1_000);
  }, 600_000);
});

/** A second, independent Prisma client on the same PostgreSQL database. */
async function createTestDatabaseClient(url: string) {
  const { openDatabase } = await import("@/lib/db");
  return openDatabase({ kind: "postgres", url });
}
