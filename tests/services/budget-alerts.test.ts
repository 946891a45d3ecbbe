// budget.threshold events: credits used and spend against caps, each threshold once per period.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db";
import { createRateLimiter } from "@/lib/ratelimit";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { checkBudgetThresholds } from "@/lib/services/budget-alerts";
import { createKey } from "@/lib/services/keys";
import { setOrganizationSpendLimit } from "@/lib/services/org-service";
import { UsageRecorder } from "@/lib/services/usage-recorder";
import { createTestDatabase, type TestDatabase } from "@/tests/helpers/db";

const actor: Actor = { type: "user", id: "00000000-0000-4000-8000-000000000001" };

describe("budget.threshold events (pglite)", () => {
  let t: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    t = await createTestDatabase("pglite");
    db = t.prisma;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("sends 50/80/100 % of credits and of spend caps once each", async () => {
    const limiter = createRateLimiter({ kind: "postgres", db });
    const o = await organizationRepository.create(db, {
      name: `Budget ${Date.now()}`,
      email: `budget-${Date.now()}@example.test`,
      plan: "PRO",
    });
    const credited = await createKey(
      db,
      { organizationId: o.id, name: "credited", environment: "live", credits: { remaining: 10 } },
      actor,
    );
    const capped = await createKey(
      db,
      { organizationId: o.id, name: "capped", environment: "live", spendLimitUsd: "2" },
      actor,
    );
    await setOrganizationSpendLimit(db, o.id, "10", actor, "OWNER");
    const plan = { initial: 10, refill: null };
    await limiter.credits.set(credited.apiKey.id, plan, 10);
    await limiter.credits.spend(credited.apiKey.id, plan, 8);
    const recorder = new UsageRecorder({ db, flushIntervalMs: 0 });
    recorder.record({
      apiKeyId: capped.apiKey.id,
      organizationId: o.id,
      endpoint: "/x",
      method: "POST",
      statusCode: 200,
      responseTimeMs: 1,
      costUsd: "2.5",
    });
    await recorder.close();

    const events = async () =>
      (
        await db.webhookEvent.findMany({
          where: { organizationId: o.id, type: "budget.threshold" },
        })
      ).map((e) => e.payload as { kind: string; keyId: string | null; threshold: number });
    // Credits 80 % used (50, 80), key spend 125 % (50, 80, 100), organization 25 % (none).
    expect(await checkBudgetThresholds(db, { limiter })).toBe(5);
    expect(await checkBudgetThresholds(db, { limiter })).toBe(0); // once per period
    const sent = await events();
    expect(
      sent
        .filter((e) => e.kind === "credits")
        .map((e) => e.threshold)
        .sort(),
    ).toEqual([50, 80]);
    expect(sent.filter((e) => e.kind === "spend" && e.keyId === capped.apiKey.id)).toHaveLength(3);
    await limiter.credits.spend(credited.apiKey.id, plan, 2);
    expect(await checkBudgetThresholds(db, { limiter })).toBe(1); // credits 100 %
    await limiter.close();
  });
});
