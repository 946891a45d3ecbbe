// Proves the comparisons go through crypto.timingSafeEqual rather than `===`.
import * as crypto from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { hashKey, verifyKey } = await import("./hash");
const spy = vi.mocked(crypto.timingSafeEqual);

describe("constant-time comparison", () => {
  beforeEach(() => {
    spy.mockClear();
  });

  it("verifyKey compares two 32-byte digests with timingSafeEqual", () => {
    const key = "pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
    expect(verifyKey(key, hashKey(key))).toBe(true);
    expect(verifyKey(key, "0".repeat(64))).toBe(false);
    expect(spy).toHaveBeenCalledTimes(2);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });

  it("verifyKey does not compare at all for a malformed hash (rejected on shape)", () => {
    expect(verifyKey("abc", "not-a-hash")).toBe(false);
    expect(spy).not.toHaveBeenCalled();
  });

  it("verifyKey fails closed when the comparison itself throws", () => {
    spy.mockImplementationOnce(() => {
      throw new Error("boom");
    });
    const key = "abc";
    expect(verifyKey(key, hashKey(key))).toBe(false);
  });
});
