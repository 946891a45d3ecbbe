import { describe, expect, it } from "vitest";
import { parseDateRange, rangeQuery } from "./date-range";

const now = new Date("2026-03-15T10:30:00Z");

describe("dashboard date ranges", () => {
  it("presets end after today (UTC) and cover whole days", () => {
    const r = parseDateRange({ range: "7d" }, now);
    expect(r.start.toISOString()).toBe("2026-03-09T00:00:00.000Z");
    expect(r.end.toISOString()).toBe("2026-03-16T00:00:00.000Z");
    expect([r.from, r.to]).toEqual(["2026-03-09", "2026-03-15"]);
    expect(parseDateRange({}, now).preset).toBe("30d");
    expect(parseDateRange({ range: "nonsense" }, now).preset).toBe("30d");
  });

  it("custom ranges include the last day and refuse bad input", () => {
    const r = parseDateRange({ range: "custom", from: "2026-02-01", to: "2026-02-03" }, now);
    expect(r.start.toISOString()).toBe("2026-02-01T00:00:00.000Z");
    expect(r.end.toISOString()).toBe("2026-02-04T00:00:00.000Z");
    expect(rangeQuery(r)).toEqual({ range: "custom", from: "2026-02-01", to: "2026-02-03" });
    expect(
      parseDateRange({ range: "custom", from: "2026-02-30", to: "2026-03-01" }, now).error,
    ).toBeTruthy();
    expect(
      parseDateRange({ range: "custom", from: "2026-03-02", to: "2026-03-01" }, now).error,
    ).toBeTruthy();
    expect(
      parseDateRange({ range: "custom", from: "2020-01-01", to: "2026-03-01" }, now).error,
    ).toBeTruthy();
  });
});
