// The webhook scheduler on a real database (PGlite always, PostgreSQL when DATABASE_URL is set),
// its clock injected (no sleeps): quota.threshold once per threshold per month, also across a
// restart (a new scheduler on the same database) and with two schedulers ticking at once;
// key.expiring 7 days and 1 day before, key.expired once, catching up after downtime; alert mails
// (a real outbox folder) only to the owners and admins who opted in, once each.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db";
import { OutboxSender } from "@/lib/mail/outbox";
import {
  closeRateLimiter,
  createRateLimiter,
  getRateLimiter,
  setRateLimiter,
} from "@/lib/ratelimit";
import { webhookScheduleRepository } from "@/lib/repositories/webhook-schedule-repository";
import { type Actor, systemActor } from "@/lib/services/actor";
import { KeyCache, setKeyCache } from "@/lib/services/key-cache";
import { createKey } from "@/lib/services/keys";
import { createOrganization } from "@/lib/services/org-service";
import { requestsThisMonth } from "@/lib/services/requests-this-month";
import { createUserInOrganization } from "@/lib/services/user-service";
import { getEmailAlerts, setEmailAlerts } from "@/lib/services/webhooks/alerts";
import { createWebhookScheduler, type SchedulerOptions } from "@/lib/services/webhooks/scheduler";
import { WEBHOOK_PAYLOAD_SCHEMAS } from "@/lib/validation/webhook-events";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";
import { readOutbox } from "@/tests/helpers/mail";

const DAY = 86_400_000;
const actor: Actor = { type: "user", id: "00000000-0000-4000-8000-000000000001", ip: "10.0.0.1" };

describe.each(testDbKinds)("webhook scheduler (%s)", (kind) => {
  let t: TestDatabase;
  let db: Db;
  let outboxDir: string;
  let mail: OutboxSender;
  const logs: string[] = [];
  const run = randomUUID().slice(0, 8);
  let n = 0;

  const newOrg = async (name = "Org") => {
    n++;
    return createOrganization(
      db,
      { name: `${name} ${run} ${n}`, email: `sched-${run}-${n}@example.test`, plan: "FREE" },
      systemActor,
    );
  };
  const scheduler = (clock: () => Date, extra: SchedulerOptions = {}) =>
    createWebhookScheduler({
      db: async () => db,
      now: clock,
      mail,
      log: (l) => logs.push(l),
      ...extra,
    });
  const eventsOf = async (organizationId: string, type: string) =>
    db.webhookEvent.findMany({ where: { organizationId, type }, orderBy: { createdAt: "asc" } });
  const spend = (organizationId: string, monthlyQuota: number, requests: number) =>
    getRateLimiter().quota.consume(organizationId, monthlyQuota, requests);

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    db = t.prisma;
    outboxDir = mkdtempSync(path.join(tmpdir(), "kw-alerts-"));
    mail = new OutboxSender(outboxDir, "Keyward <keyward@localhost>", () => undefined);
    // One limiter for the file: the quota counter is what the scheduler reads (requestsThisMonth).
    setRateLimiter(createRateLimiter({ kind: "memory", quota: "memory" }));
  });
  afterAll(async () => {
    await closeRateLimiter();
    await t?.close();
    rmSync(outboxDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    setKeyCache(new KeyCache());
  });

  it("a FREE organization gets each quota.threshold once, across restarts", async () => {
    const org = await newOrg("Quota");
    expect(org.plan).toBe("FREE");
    const quota = org.monthlyQuota;
    const now = () => new Date();
    const thresholds = async () =>
      (await eventsOf(org.id, "quota.threshold")).map(
        (e) => (e.payload as { threshold: number }).threshold,
      );

    await spend(org.id, quota, quota / 2 - 1);
    await scheduler(now).tick();
    expect(await thresholds()).toEqual([]);

    await spend(org.id, quota, 1); // exactly 50 %
    let s = scheduler(now);
    expect((await s.tick()).quota).toBe(1);
    await s.tick();
    expect(await thresholds()).toEqual([50]);

    await spend(org.id, quota, (quota * 30) / 100); // 80 %
    s = scheduler(now); // a restart: a new instance on the same database
    await s.tick();
    await s.tick();
    expect(await thresholds()).toEqual([50, 80]);

    await spend(org.id, quota, (quota * 20) / 100); // 100 %
    expect(await requestsThisMonth(db, org)).toBe(quota);
    await scheduler(now).tick();
    await scheduler(now).tick();
    expect(await thresholds()).toEqual([50, 80, 100]);

    const [event] = await eventsOf(org.id, "quota.threshold");
    const payload = WEBHOOK_PAYLOAD_SCHEMAS["quota.threshold"].parse(event.payload);
    expect(payload).toMatchObject({
      organizationId: org.id,
      month: new Date().toISOString().slice(0, 7),
      limit: quota,
    });
  });

  it("two schedulers ticking at once send each threshold once", async () => {
    const orgs = await Promise.all([newOrg("Twin"), newOrg("Twin")]);
    for (const o of orgs) await spend(o.id, o.monthlyQuota, o.monthlyQuota); // 0 -> 100 %
    const now = () => new Date();
    const reports = await Promise.all([
      scheduler(now).tick(),
      scheduler(now).tick(),
      scheduler(now).tick(),
    ]);
    for (const o of orgs) {
      const got = (await eventsOf(o.id, "quota.threshold")).map(
        (e) => (e.payload as { threshold: number }).threshold,
      );
      expect(got.sort((a, b) => a - b)).toEqual([50, 80, 100]);
    }
    expect(reports.every((r) => r.failures === 0)).toBe(true);
  });

  it("one organization's failure does not stop the others", async () => {
    const [bad, good] = await Promise.all([newOrg("Bad"), newOrg("Good")]);
    await spend(bad.id, bad.monthlyQuota, bad.monthlyQuota);
    await spend(good.id, good.monthlyQuota, good.monthlyQuota);
    const report = await scheduler(() => new Date(), {
      usage: async (d, o, at) => {
        if (o.id === bad.id) throw new Error("counter down");
        return requestsThisMonth(d, o, at);
      },
    }).tick();
    expect(report.failures).toBeGreaterThanOrEqual(1);
    expect(logs.some((l) => l.includes(bad.id) && l.includes("counter down"))).toBe(true);
    expect(await eventsOf(bad.id, "quota.threshold")).toHaveLength(0);
    expect(await eventsOf(good.id, "quota.threshold")).toHaveLength(3);
    // The next healthy tick catches up.
    await scheduler(() => new Date()).tick();
    expect(await eventsOf(bad.id, "quota.threshold")).toHaveLength(3);
  });

  it("key.expiring 7 days and 1 day before, key.expired once; catches up after downtime", async () => {
    const org = await newOrg("Expiry");
    const t0 = Date.now();
    const { apiKey } = await createKey(
      db,
      {
        organizationId: org.id,
        name: "soon",
        environment: "live",
        expiresAt: new Date(t0 + 8 * DAY),
      },
      actor,
    );
    // Found already inside 1 day: the 1d warning only.
    const { apiKey: late } = await createKey(
      db,
      {
        organizationId: org.id,
        name: "late",
        environment: "live",
        expiresAt: new Date(t0 + 12 * 3_600_000),
      },
      actor,
    );
    const windows = async (keyId: string) =>
      (await eventsOf(org.id, "key.expiring"))
        .map((e) => e.payload as { key: { id: string }; window: string })
        .filter((p) => p.key.id === keyId)
        .map((p) => p.window);
    const at = (ms: number) => () => new Date(t0 + ms);

    await scheduler(at(0)).tick();
    expect(await windows(apiKey.id)).toEqual([]);
    expect(await windows(late.id)).toEqual(["1d"]);

    await scheduler(at(1.5 * DAY)).tick();
    await scheduler(at(1.6 * DAY)).tick();
    expect(await windows(apiKey.id)).toEqual(["7d"]);

    // Downtime: the next tick is 7.5 days in (0.5 day left): only the 1d warning now.
    await scheduler(at(7.5 * DAY)).tick();
    await scheduler(at(7.6 * DAY)).tick();
    expect(await windows(apiKey.id)).toEqual(["7d", "1d"]);
    expect(await eventsOf(org.id, "key.expired")).toHaveLength(1); // "late" expired meanwhile

    // Long downtime past the expiry: key.expired once, no more warnings.
    await scheduler(at(9 * DAY)).tick();
    await scheduler(at(10 * DAY)).tick();
    expect(await windows(apiKey.id)).toEqual(["7d", "1d"]);
    const expired = await eventsOf(org.id, "key.expired");
    expect(expired.map((e) => (e.payload as { key: { id: string } }).key.id).sort()).toEqual(
      [apiKey.id, late.id].sort(),
    );
    for (const e of [...expired, ...(await eventsOf(org.id, "key.expiring"))]) {
      const type = e.type as "key.expired" | "key.expiring";
      expect(WEBHOOK_PAYLOAD_SCHEMAS[type].safeParse(e.payload).success).toBe(true);
    }
  });

  it("alert mails go only to the owners and admins who opted in, once per occasion", async () => {
    const org = await newOrg("Alerts");
    const member = async (role: "OWNER" | "ADMIN" | "VIEWER", who: string) => {
      const r = await createUserInOrganization(
        db,
        {
          email: `${who}-${run}@alerts.test`,
          password: "a long passphrase",
          org: org.slug,
          role,
        },
        systemActor,
      );
      return { ...r, email: `${who}-${run}@alerts.test` };
    };
    const owner = await member("OWNER", "owner");
    const admin = await member("ADMIN", "admin");
    const viewer = await member("VIEWER", "viewer");
    const silent = await member("ADMIN", "silent");
    const idOf = (m: { user: { id: string } }) => m.user.id;

    await setEmailAlerts(db, { organizationId: org.id, userId: idOf(owner), role: "OWNER" }, [
      "quota.50",
      "quota.100",
      "key.expiring",
    ]);
    await setEmailAlerts(db, { organizationId: org.id, userId: idOf(admin), role: "ADMIN" }, [
      "quota.80",
    ]);
    // A viewer cannot choose alerts; even one stored past the service is never mailed.
    await expect(
      setEmailAlerts(db, { organizationId: org.id, userId: idOf(viewer), role: "VIEWER" }, [
        "quota.50",
      ]),
    ).rejects.toThrow(/owners and admins/);
    await webhookScheduleRepository.setEmailAlerts(db, org.id, idOf(viewer), ["quota.50"]);
    expect(await getEmailAlerts(db, org.id, idOf(owner))).toEqual([
      "quota.50",
      "quota.100",
      "key.expiring",
    ]);
    expect(await getEmailAlerts(db, org.id, idOf(silent))).toEqual([]);
    // Another organization's member is no member here.
    const other = await newOrg("Other");
    await expect(getEmailAlerts(db, other.id, idOf(owner))).rejects.toThrow(/does not exist/);
    await expect(
      setEmailAlerts(db, { organizationId: other.id, userId: idOf(owner), role: "OWNER" }, [
        "quota.50",
      ]),
    ).rejects.toThrow(/does not exist/);

    const before = (await readOutbox(outboxDir)).length;
    await spend(org.id, org.monthlyQuota, (org.monthlyQuota * 85) / 100);
    const report = await scheduler(() => new Date()).tick();
    expect(report.mails).toBe(2);
    await scheduler(() => new Date()).tick();
    const mails = (await readOutbox(outboxDir)).slice(before);
    const to = mails.map((m) => `${m.to} ${m.subject}`).sort();
    expect(to).toHaveLength(2);
    expect(to[0]).toContain(admin.email);
    expect(to[0]).toContain("80 %");
    expect(to[1]).toContain(owner.email);
    expect(to[1]).toContain("50 %");
    expect(mails.some((m) => m.to.includes(viewer.email) || m.to.includes(silent.email))).toBe(
      false,
    );
  });
});
