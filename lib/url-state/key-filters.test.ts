import { describe, expect, it } from "vitest";
import { parseKeyFilters } from "./key-filters";

describe("parseKeyFilters", () => {
  it("keeps what is well formed", () => {
    expect(
      parseKeyFilters({
        env: "live",
        status: "active",
        externalId: "user_42",
        attention: "unused",
      }),
    ).toEqual({ env: "live", status: "active", externalId: "user_42", attention: "unused" });
    expect(parseKeyFilters({ externalId: ["team:a", "team:b"] }).externalId).toBe("team:a");
  });

  it("drops what is not", () => {
    expect(
      parseKeyFilters({
        env: "prod",
        status: "ACTIVE",
        externalId: "has space",
        attention: "toString",
      }),
    ).toEqual({ env: undefined, status: undefined, externalId: undefined, attention: undefined });
    expect(parseKeyFilters({ externalId: "x".repeat(129) }).externalId).toBeUndefined();
    expect(parseKeyFilters({ externalId: "" }).externalId).toBeUndefined();
  });
});
