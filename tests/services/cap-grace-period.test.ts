import { describe, expect, it } from "vitest";
import { capGracePeriodAtSourceExpiry } from "@/lib/services/keys";

const now = new Date("2026-01-01T00:00:00Z");
const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

describe("capGracePeriodAtSourceExpiry", () => {
  it("ends the grace period after the chosen time when the key never expires", () => {
    expect(capGracePeriodAtSourceExpiry(now, 3600, null)).toEqual(hours(1));
    expect(capGracePeriodAtSourceExpiry(now, 604_800, null)).toEqual(hours(168));
  });

  it("never extends the key past its own expiry", () => {
    expect(capGracePeriodAtSourceExpiry(now, 86_400, hours(2))).toEqual(hours(2));
  });

  it("keeps the grace period when the key expires later", () => {
    expect(capGracePeriodAtSourceExpiry(now, 3600, hours(48))).toEqual(hours(1));
  });

  it("a zero grace period ends now", () => {
    expect(capGracePeriodAtSourceExpiry(now, 0, null)).toEqual(now);
    expect(capGracePeriodAtSourceExpiry(now, 0, hours(5))).toEqual(now);
  });

  it("a source already past expiry is capped at now, never in the past", () => {
    expect(capGracePeriodAtSourceExpiry(now, 3600, hours(-1))).toEqual(now);
  });

  it("an expiry equal to the end of the grace period is that moment", () => {
    expect(capGracePeriodAtSourceExpiry(now, 3600, hours(1))).toEqual(hours(1));
  });

  it("refuses a negative or non-finite grace period", () => {
    expect(() => capGracePeriodAtSourceExpiry(now, -1, null)).toThrow(RangeError);
    expect(() => capGracePeriodAtSourceExpiry(now, Number.NaN, null)).toThrow(RangeError);
  });
});
