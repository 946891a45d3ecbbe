import { describe, expect, it } from "vitest";
import { isPlan, PLAN_LIMITS, PLANS, planDefaults, usageRetentionDays } from "./plans";

describe("plans", () => {
  it("has the product's defaults", () => {
    expect(planDefaults("FREE")).toEqual({
      rateLimitPerMinute: 60,
      monthlyQuota: 10_000,
      maxActiveKeys: 5,
      usageRetentionDays: 30,
    });
    expect(planDefaults("PRO")).toEqual({
      rateLimitPerMinute: 1_000,
      monthlyQuota: 1_000_000,
      maxActiveKeys: 50,
      usageRetentionDays: 90,
    });
    expect(planDefaults("ENTERPRISE")).toEqual({
      rateLimitPerMinute: 10_000,
      monthlyQuota: 100_000_000,
      maxActiveKeys: 1_000,
      usageRetentionDays: 365,
    });
    expect(PLANS.map(usageRetentionDays)).toEqual([30, 90, 365]);
  });

  it("hands out copies; the table itself is frozen", () => {
    const free = planDefaults("FREE");
    free.maxActiveKeys = 999;
    expect(planDefaults("FREE").maxActiveKeys).toBe(5);
    expect(Object.isFrozen(PLAN_LIMITS.FREE)).toBe(true);
  });

  it("rejects unknown plans", () => {
    expect(isPlan("free")).toBe(false);
    expect(isPlan("PRO")).toBe(true);
    expect(() => planDefaults("GOLD" as never)).toThrow(TypeError);
  });
});
