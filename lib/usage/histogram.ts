// Latency histograms that merge by adding counts, so a percentile over any range of rollups is
// as good as one over the raw rows (not an average of percentiles).
//
// Buckets are fixed and shared by every rollup: bucket i holds the whole milliseconds
// LOWER_BOUNDS[i] .. LOWER_BOUNDS[i + 1] - 1. Below 25 ms each bucket is one millisecond wide
// (exact); above, a bucket starting at L is 1 + floor(L / 25) wide, so the buckets grow by about
// 4% each and cover every int up to 2^31 - 1 ms in 480 buckets. A bucket is represented by its midpoint,
// which is within L / 50 of every value in it, so within 2% of each value: every estimated order
// statistic is within LATENCY_RELATIVE_ERROR (2%) of the true one, and so is a percentile that
// interpolates between two of them (as percentile_cont does). Estimates are also clamped to the
// observed minimum and maximum, which only brings them closer.
//
// The writer computes the bucket in SQL with width_bucket(responseTimeMs, THRESHOLDS), where
// THRESHOLDS is LOWER_BOUNDS without its leading 0: width_bucket returns the number of thresholds
// <= the value, which is exactly the bucket index here. Rollups store the histogram sparsely, as
// ascending bucket indices and their counts (only buckets that were hit).

/** Upper bound of |estimate - true| / true for p50, p95 or any percentile read from rollups. */
export const LATENCY_RELATIVE_ERROR = 0.02;

const INT_MAX = 2_147_483_647;

function buildBounds(): number[] {
  const bounds = [0];
  for (let lo = 0; lo <= INT_MAX; ) {
    lo += 1 + Math.floor(lo / 25);
    if (lo > INT_MAX) break;
    bounds.push(lo);
  }
  return bounds;
}

/** Lower bound (inclusive, ms) of each bucket; bucket i ends where bucket i + 1 starts. */
export const LOWER_BOUNDS: readonly number[] = Object.freeze(buildBounds());

/** Number of buckets. */
export const BUCKET_COUNT = LOWER_BOUNDS.length;

/** The thresholds array for SQL width_bucket (LOWER_BOUNDS without bucket 0's lower bound). */
export const THRESHOLDS: readonly number[] = Object.freeze(LOWER_BOUNDS.slice(1));

/** The bucket of a latency in ms (negative counts as 0, fractions are rounded like the writer). */
export function bucketOf(ms: number): number {
  const v = Math.min(INT_MAX, Math.max(0, Math.round(ms)));
  let lo = 0;
  let hi = LOWER_BOUNDS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (LOWER_BOUNDS[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The smallest and largest whole milliseconds the bucket holds. */
export function bucketRange(bucket: number): [number, number] {
  const lo = LOWER_BOUNDS[bucket];
  if (lo === undefined) throw new RangeError(`no latency bucket ${bucket}`);
  const next = LOWER_BOUNDS[bucket + 1];
  return [lo, next === undefined ? INT_MAX : next - 1];
}

/** The value that stands for every latency in the bucket: its midpoint. */
export function bucketValue(bucket: number): number {
  const [lo, hi] = bucketRange(bucket);
  return (lo + hi) / 2;
}

/** A merged histogram: ascending bucket indices with their counts, plus what was observed. */
export interface LatencyHistogram {
  buckets: number[];
  counts: number[];
  min?: number | null;
  max?: number | null;
}

/** Adds histograms (any order, repeated buckets allowed) into one with ascending buckets. */
export function mergeHistograms(parts: Iterable<LatencyHistogram>): LatencyHistogram {
  const sums = new Map<number, number>();
  let min: number | null = null;
  let max: number | null = null;
  for (const p of parts) {
    p.buckets.forEach((b, i) => {
      sums.set(b, (sums.get(b) ?? 0) + p.counts[i]);
    });
    if (p.min != null) min = min === null ? p.min : Math.min(min, p.min);
    if (p.max != null) max = max === null ? p.max : Math.max(max, p.max);
  }
  const buckets = [...sums.keys()].sort((a, b) => a - b);
  return { buckets, counts: buckets.map((b) => sums.get(b) ?? 0), min, max };
}

/** A histogram of the given latencies (for tests and benchmarks; the writer does this in SQL). */
export function histogramOf(values: Iterable<number>): LatencyHistogram {
  const sums = new Map<number, number>();
  let min: number | null = null;
  let max: number | null = null;
  for (const raw of values) {
    const v = Math.min(INT_MAX, Math.max(0, Math.round(raw)));
    const b = bucketOf(v);
    sums.set(b, (sums.get(b) ?? 0) + 1);
    min = min === null ? v : Math.min(min, v);
    max = max === null ? v : Math.max(max, v);
  }
  const buckets = [...sums.keys()].sort((a, b) => a - b);
  return { buckets, counts: buckets.map((b) => sums.get(b) ?? 0), min, max };
}

/**
 * The q-quantile (0..1) with percentile_cont's definition: the value at rank q * (n - 1) of the
 * sorted latencies, interpolated between the two neighbouring ranks; each rank's value is its
 * bucket's midpoint, clamped to the observed min and max. Null for an empty histogram.
 */
export function percentile(h: LatencyHistogram, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError("q must be within 0..1");
  let n = 0;
  for (const c of h.counts) n += c;
  if (n <= 0) return null;
  const rank = q * (n - 1);
  const lower = Math.floor(rank);
  const frac = rank - lower;
  const at = (r: number): number => {
    let seen = 0;
    for (let i = 0; i < h.buckets.length; i++) {
      seen += h.counts[i];
      if (r < seen) return bucketValue(h.buckets[i]);
    }
    return bucketValue(h.buckets[h.buckets.length - 1]);
  };
  const a = at(lower);
  let v = frac > 0 ? a + frac * (at(lower + 1) - a) : a;
  if (h.min != null) v = Math.max(v, h.min);
  if (h.max != null) v = Math.min(v, h.max);
  return v;
}
