import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BUCKET_COUNT,
  bucketOf,
  bucketRange,
  bucketValue,
  histogramOf,
  LATENCY_RELATIVE_ERROR,
  LOWER_BOUNDS,
  mergeHistograms,
  percentile,
  THRESHOLDS,
} from "@/lib/usage/histogram";

/** percentile_cont over the raw values. */
function exact(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const r = q * (s.length - 1);
  const lo = Math.floor(r);
  return lo + 1 < s.length ? s[lo] + (r - lo) * (s[lo + 1] - s[lo]) : s[lo];
}

describe("latency histogram", () => {
  it("has fixed buckets: 1 ms wide below 25 ms, then about 4% wider each, up to 2^31 - 1", () => {
    expect(LOWER_BOUNDS.slice(0, 28)).toEqual([...Array.from({ length: 26 }, (_, i) => i), 27, 29]);
    expect(BUCKET_COUNT).toBe(480);
    expect(THRESHOLDS).toEqual(LOWER_BOUNDS.slice(1));
    expect(bucketRange(BUCKET_COUNT - 1)[1]).toBe(2_147_483_647);
    for (let b = 1; b < BUCKET_COUNT; b++) {
      const [lo, hi] = bucketRange(b);
      expect(hi).toBeGreaterThanOrEqual(lo);
      // The midpoint is within 2% of every value in the bucket.
      expect((bucketValue(b) - lo) / lo).toBeLessThanOrEqual(LATENCY_RELATIVE_ERROR);
      expect(bucketOf(lo)).toBe(b);
      expect(bucketOf(hi)).toBe(b);
    }
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(1e12)).toBe(BUCKET_COUNT - 1);
  });

  it("gives exact percentiles for small integer latencies and null when empty", () => {
    const h = histogramOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(h, 0.5)).toBe(5.5);
    expect(percentile(h, 0.95)).toBeCloseTo(9.55, 9);
    expect(percentile(histogramOf([]), 0.5)).toBeNull();
    expect(percentile(histogramOf([700, 700, 700]), 0.95)).toBe(700); // clamped to min / max
    expect(() => percentile(h, 1.5)).toThrow(RangeError);
  });

  it("merges by adding counts: merged parts equal the histogram of all values", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 60 }), {
          maxLength: 8,
        }),
        (parts) => {
          const merged = mergeHistograms(parts.map(histogramOf));
          const all = histogramOf(parts.flat());
          expect(merged.buckets).toEqual(all.buckets);
          expect(merged.counts).toEqual(all.counts);
          expect(merged.min).toBe(all.min);
          expect(merged.max).toBe(all.max);
        },
      ),
    );
  });

  it("p50 and p95 from merged histograms are within 2% of percentile_cont", () => {
    const latency = fc.oneof(
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 0, max: 5_000 }),
      fc.integer({ min: 0, max: 2_147_483_647 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(latency, { maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(0.5, 0.95, 0.99, 0, 1),
        (parts, q) => {
          const values = parts.flat();
          const h = mergeHistograms(parts.map(histogramOf));
          if (values.length === 0) {
            expect(percentile(h, q)).toBeNull();
            return;
          }
          const want = exact(values, q);
          const got = percentile(h, q) as number;
          expect(Math.abs(got - want)).toBeLessThanOrEqual(want * LATENCY_RELATIVE_ERROR + 1e-6);
        },
      ),
      { numRuns: 500 },
    );
  });
});
