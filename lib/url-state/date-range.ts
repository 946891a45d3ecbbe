// The dashboard's date ranges: 7, 30 or 90 days back from today (UTC days), or custom from/to.
// Pure: the pages parse search params with it, the CSV export route too, so both show the same.
export type RangePreset = "7d" | "30d" | "90d" | "custom";

export interface DateRange {
  preset: RangePreset;
  /** Inclusive, 00:00 UTC. */
  start: Date;
  /** Exclusive, 00:00 UTC of the day after the last day shown. */
  end: Date;
  /** `YYYY-MM-DD` of the first and last day shown. */
  from: string;
  to: string;
  /** Set when the custom range given was refused and the default was used instead. */
  error?: string;
}

const DAY = 86_400_000;
export const MAX_RANGE_DAYS = 366;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const day = (d: Date) => d.toISOString().slice(0, 10);
function startOfUtcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}
function parseDay(value: unknown): Date | null {
  if (typeof value !== "string" || !DATE.test(value)) return null;
  const d = new Date(`${value}T00:00:00.000Z`);
  return Number.isNaN(d.getTime()) || day(d) !== value ? null : d;
}

function preset(days: number, name: RangePreset, now: Date): DateRange {
  const end = new Date(startOfUtcDay(now).getTime() + DAY);
  const start = new Date(end.getTime() - days * DAY);
  return { preset: name, start, end, from: day(start), to: day(new Date(end.getTime() - DAY)) };
}

export function parseDateRange(
  params: { range?: unknown; from?: unknown; to?: unknown },
  now: Date = new Date(),
): DateRange {
  const range = typeof params.range === "string" ? params.range : "30d";
  if (range === "7d") return preset(7, "7d", now);
  if (range === "90d") return preset(90, "90d", now);
  if (range === "custom") {
    const from = parseDay(params.from);
    const to = parseDay(params.to);
    const fallback = preset(30, "30d", now);
    if (!from || !to) return { ...fallback, error: "Pick both a start and an end date." };
    if (to.getTime() < from.getTime()) {
      return { ...fallback, error: "The end date is before the start date." };
    }
    const days = (to.getTime() - from.getTime()) / DAY + 1;
    if (days > MAX_RANGE_DAYS) {
      return { ...fallback, error: `Pick at most ${MAX_RANGE_DAYS} days.` };
    }
    return {
      preset: "custom",
      start: from,
      end: new Date(to.getTime() + DAY),
      from: day(from),
      to: day(to),
    };
  }
  return preset(30, "30d", now);
}

/** The search params that reproduce a range (for links and the CSV export). */
export function rangeQuery(range: DateRange): Record<string, string> {
  return range.preset === "custom"
    ? { range: "custom", from: range.from, to: range.to }
    : { range: range.preset };
}
