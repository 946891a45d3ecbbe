import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidKeyFormat, KEY_PATTERN, normalizeEnvironment, toDbEnvironment } from "./format";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"; // 43 characters
const LIVE = `pk_live_${TOKEN}`;
const TEST = `pk_test_${TOKEN}`;

describe("isValidKeyFormat", () => {
  it("accepts well-formed live and test keys", () => {
    expect(TOKEN).toHaveLength(43);
    expect(isValidKeyFormat(LIVE)).toBe(true);
    expect(isValidKeyFormat(TEST)).toBe(true);
    expect(isValidKeyFormat(`pk_live_${"-".repeat(43)}`)).toBe(true);
    expect(isValidKeyFormat(`pk_live_${"_".repeat(43)}`)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["prefix only", "pk_live_"],
    ["one short", LIVE.slice(0, -1)],
    ["one long", `${LIVE}A`],
    ["unknown environment", `pk_prod_${TOKEN}`],
    ["upper-case environment", `pk_LIVE_${TOKEN}`],
    ["upper-case prefix", `PK_live_${TOKEN}`],
    ["other prefix", `sk_live_${TOKEN}`],
    ["missing separator", `pk_live${TOKEN}A`],
    ["standard base64 +", `pk_live_${TOKEN.slice(0, -1)}+`],
    ["standard base64 /", `pk_live_${TOKEN.slice(0, -1)}/`],
    ["padding", `pk_live_${TOKEN.slice(0, -1)}=`],
    ["leading space", ` ${LIVE.slice(1)}`],
    ["trailing space", `${LIVE.slice(0, -1)} `],
    ["trailing newline", `${LIVE}\n`],
    ["newline inside", `pk_live_${TOKEN.slice(0, 20)}\n${TOKEN.slice(21)}`],
    ["tab inside", `pk_live_${TOKEN.slice(0, 20)}\t${TOKEN.slice(21)}`],
    ["non-breaking space", `pk_live_${TOKEN.slice(0, -1)}\u00a0`],
    ["accented letter", `pk_live_${TOKEN.slice(0, -1)}é`],
    ["emoji", `pk_live_${TOKEN.slice(0, -2)}😀`],
    ["cyrillic look-alike", `pk_live_${TOKEN.slice(0, -1)}А`],
    ["fullwidth digit", `pk_live_${TOKEN.slice(0, -1)}１`],
    ["zero-width space", `pk_live_${TOKEN.slice(0, -1)}\u200b`],
    ["NUL", `pk_live_${TOKEN.slice(0, -1)}\u0000`],
    ["very long", `pk_live_${"A".repeat(1_000_000)}`],
  ])("rejects %s", (_label, key) => {
    expect(isValidKeyFormat(key)).toBe(false);
  });

  it.each([
    null,
    undefined,
    0,
    51,
    Number.NaN,
    true,
    {},
    [],
    [LIVE],
    { toString: () => LIVE },
    new String(LIVE),
    Symbol("k"),
    10n,
    () => LIVE,
  ])("rejects the non-string %s without throwing", (value) => {
    expect(isValidKeyFormat(value)).toBe(false);
  });

  it("answers quickly for a very long string (no regex work on it)", () => {
    const huge = `pk_live_${"A".repeat(10_000_000)}`;
    const t = performance.now();
    for (let i = 0; i < 1_000; i++) isValidKeyFormat(huge);
    expect(performance.now() - t).toBeLessThan(200);
  });

  it("the exported pattern is anchored", () => {
    expect(KEY_PATTERN.test(`x${LIVE}`)).toBe(false);
    expect(KEY_PATTERN.test(`${LIVE}x`)).toBe(false);
  });

  it("property: any 43-character base64url token makes a valid key for both environments", () => {
    const tokenChar = fc.constantFrom(
      ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    );
    fc.assert(
      fc.property(
        fc.array(tokenChar, { minLength: 43, maxLength: 43 }),
        fc.constantFrom("live", "test"),
        (chars, env) => {
          const key = `pk_${env}_${chars.join("")}`;
          return isValidKeyFormat(key);
        },
      ),
    );
  });

  it("property: arbitrary strings are valid only when they match the exact shape", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (s) => {
        const expected = /^pk_(live|test)_[A-Za-z0-9_-]{43}$/.test(s) && s.length === 51;
        return isValidKeyFormat(s) === expected;
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("environments", () => {
  it("normalizes either case and maps to the database enum", () => {
    expect(normalizeEnvironment("LIVE")).toBe("live");
    expect(normalizeEnvironment("test")).toBe("test");
    expect(toDbEnvironment("live")).toBe("LIVE");
    expect(toDbEnvironment("TEST")).toBe("TEST");
  });

  it.each(["prod", "", "li ve", null, 3])("rejects %j", (env) => {
    expect(() => normalizeEnvironment(env)).toThrow(TypeError);
  });
});
