// The key rules written once: the form fields the dashboard sends, the shared bounds, and the
// end-of-day expiry rule the dialogs show.
import { describe, expect, it } from "vitest";
import { RoleSchema } from "./accounts";
import {
  EnvironmentSchema,
  ExpiryDateFieldSchema,
  GracePeriodSchema,
  PlanSchema,
  RateLimitFieldSchema,
  RateLimitPerMinuteSchema,
} from "./keys";
import {
  endOfUtcDay,
  firstExpiryDay,
  GRACE_PERIOD_LABELS,
  GRACE_PERIOD_NAMES,
  GRACE_PERIODS,
  isEndOfUtcDay,
  PLANS,
  RATE_LIMIT_PER_MINUTE_MAX,
  ROLES,
  utcDay,
} from "./rules";

describe("expiry from a date input", () => {
  it("is the end of that UTC day, and reads back as the same day", () => {
    const d = endOfUtcDay("2099-12-31");
    expect(d.toISOString()).toBe("2099-12-31T23:59:59.999Z");
    expect(isEndOfUtcDay(d.toISOString())).toBe(true);
    expect(utcDay(d.toISOString())).toBe("2099-12-31");
    expect(isEndOfUtcDay("2099-12-31T12:00:00.000Z")).toBe(false);
  });

  it("empty is never; a past day, a bad date or another shape is refused with a message", () => {
    expect(ExpiryDateFieldSchema.parse("")).toBeNull();
    expect(ExpiryDateFieldSchema.parse(" 2099-01-02 ")?.toISOString()).toBe(
      "2099-01-02T23:59:59.999Z",
    );
    for (const [input, message] of [
      ["2000-01-01", "Pick a date in the future."],
      ["2099-13-45", "Use a date like 2026-12-31."],
      ["31.12.2099", "Use a date like 2026-12-31."],
      ["2099-12-31T10:00:00Z", "Use a date like 2026-12-31."],
    ]) {
      const r = ExpiryDateFieldSchema.safeParse(input);
      expect(r.success, input).toBe(false);
      expect(r.error?.issues[0].message).toBe(message);
    }
  });

  it("the first day a date input offers is tomorrow, UTC", () => {
    expect(firstExpiryDay(Date.UTC(2026, 11, 31, 23, 0))).toBe("2027-01-01");
  });
});

describe("rate limit", () => {
  it("the form field: empty is the plan's, 1..1,000,000 else", () => {
    expect(RateLimitFieldSchema.parse("")).toBeNull();
    expect(RateLimitFieldSchema.parse("1")).toBe(1);
    expect(RateLimitFieldSchema.parse(String(RATE_LIMIT_PER_MINUTE_MAX))).toBe(1_000_000);
    for (const bad of ["0", "1000001", "1.5", "-3", "1e3", "9999999"]) {
      expect(RateLimitFieldSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(RateLimitFieldSchema.safeParse("0").error?.issues[0].message).toMatch(
      /^Between 1 and 1,000,000 requests per minute/,
    );
  });

  it("the API field takes the same bounds", () => {
    expect(RateLimitPerMinuteSchema.safeParse(RATE_LIMIT_PER_MINUTE_MAX).success).toBe(true);
    expect(RateLimitPerMinuteSchema.safeParse(RATE_LIMIT_PER_MINUTE_MAX + 1).success).toBe(false);
    expect(RateLimitPerMinuteSchema.safeParse(0).success).toBe(false);
    expect(RateLimitPerMinuteSchema.safeParse(null).success).toBe(true);
  });
});

describe("enums built from their tables", () => {
  it("grace periods: the schema takes exactly the table's names, each with its words", () => {
    expect(GRACE_PERIOD_NAMES).toEqual(Object.keys(GRACE_PERIODS));
    expect(Object.keys(GRACE_PERIOD_LABELS)).toEqual(GRACE_PERIOD_NAMES);
    for (const g of GRACE_PERIOD_NAMES) expect(GracePeriodSchema.parse(g)).toBe(g);
    expect(GracePeriodSchema.safeParse("2d").error?.issues[0].message).toBe(
      "Choose how long the old key keeps working.",
    );
  });

  it("roles, plans and environments refuse anything else with a readable message", () => {
    for (const r of ROLES) expect(RoleSchema.parse(r)).toBe(r);
    for (const p of PLANS) expect(PlanSchema.parse(p)).toBe(p);
    expect(RoleSchema.safeParse("owner").error?.issues[0].message).toMatch(/^Choose a role/);
    expect(PlanSchema.safeParse("GOLD").error?.issues[0].message).toBe(
      "Use FREE, PRO, ENTERPRISE.",
    );
    expect(EnvironmentSchema.safeParse("prod").error?.issues[0].message).toBe("Use live or test.");
  });
});
