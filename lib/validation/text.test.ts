// The text rules as properties of the schemas themselves: whatever any client-facing text schema
// accepts, PostgreSQL can store, within the schema's bounds; whatever holds NUL or a lone
// surrogate is refused. Seeded; fast-check prints the seed and the value on failure.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EmailSchema, OrganizationNameSchema, PasswordSchema, PersonNameSchema } from "./accounts";
import { KeyNameSchema, KeySearchSchema, RevokeReasonSchema, ScopeSchema } from "./keys";
import { isCleanText, isStorableText, toStorableText } from "./text";
import type { z } from "./zod";

const SEED = 20261201;
const hostile = fc.oneof(
  fc.string({ unit: "binary", maxLength: 120 }),
  fc.string({
    unit: fc.constantFrom("\u0000", "\uD800", "\uDFFF", "\u0007", "\n", "\t", "a", "-", ":", "😀"),
    maxLength: 40,
  }),
  fc.string({ unit: "grapheme", maxLength: 600 }),
);

const SCHEMAS: [string, z.ZodType<string>, number, boolean][] = [
  ["key name", KeyNameSchema, 100, false],
  ["key search", KeySearchSchema, 100, false],
  ["revoke reason", RevokeReasonSchema, 500, true],
  ["scope", ScopeSchema, 64, false],
  ["person name", PersonNameSchema, 100, false],
  ["organization name", OrganizationNameSchema, 100, false],
  ["email", EmailSchema, 254, false],
  ["password", PasswordSchema, 200, true],
];

describe.each(SCHEMAS)("%s", (_name, schema, max, multiline) => {
  it("accepts only storable text within its bounds", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const r = schema.safeParse(s);
        if (!r.success) return;
        expect(isStorableText(r.data)).toBe(true);
        expect(r.data.length).toBeLessThanOrEqual(max);
        // Passwords are hashed, not stored as text: any character but NUL and lone surrogates.
        if (schema !== PasswordSchema) expect(isCleanText(r.data, multiline)).toBe(true);
      }),
      { numRuns: 2000, seed: SEED },
    );
  });

  it("refuses NUL and lone surrogates anywhere", () => {
    for (const bad of ["a\u0000b", "ab\uD800", "\uDC00ab", "ok:ok\u0000"]) {
      expect(schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("toStorableText", () => {
  it("always yields storable text", () => {
    fc.assert(
      fc.property(hostile, (s) => isStorableText(toStorableText(s))),
      { numRuns: 2000, seed: SEED },
    );
  });
});
