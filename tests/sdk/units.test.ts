// The middleware's pure parts: reading the key from headers and money without float drift.

import { describe, expect, it } from "vitest";
import { readKey, toMicroUsd } from "@/packages/sdk/src/keyward";

describe("readKey", () => {
  it("takes Authorization: Bearer or X-API-Key, one of them, once", () => {
    expect(readKey("Bearer pk_live_abc", undefined)).toEqual({ key: "pk_live_abc" });
    expect(readKey("bearer   pk_live_abc  ", null)).toEqual({ key: "pk_live_abc" });
    expect(readKey(undefined, " pk_live_abc ")).toEqual({ key: "pk_live_abc" });
    expect(readKey(undefined, undefined)).toEqual({ code: "UNAUTHORIZED" });
    expect(readKey("Basic dXNlcjpwYXNz", undefined)).toEqual({ code: "UNAUTHORIZED" });
    expect(readKey("Bearer a b", undefined)).toEqual({ code: "UNAUTHORIZED" });
    expect(readKey(undefined, "")).toEqual({ code: "UNAUTHORIZED" });
    expect(readKey("Bearer a", "a")).toEqual({ code: "BAD_REQUEST" });
    expect(readKey(undefined, ["a", "b"])).toEqual({ code: "BAD_REQUEST" });
  });
});

describe("toMicroUsd", () => {
  it("parses numbers and decimal strings to whole micro-dollars", () => {
    expect(toMicroUsd("0.0021")).toBe(2100);
    expect(toMicroUsd(0.1 + 0.2)).toBe(300_000);
    expect(toMicroUsd("5")).toBe(5_000_000);
    expect(toMicroUsd(0.0000004)).toBe(0);
    for (const bad of ["-1", "1e3", "0.0000001", "abc", ""]) {
      expect(() => toMicroUsd(bad)).toThrow(TypeError);
    }
    expect(() => toMicroUsd(-0.5)).toThrow(TypeError);
  });
});
