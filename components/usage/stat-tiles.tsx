import type { ReactNode } from "react";
import type { RangeStats } from "@/app/(dashboard)/_lib/data";
import { formatMs, formatNumber, formatPercent, formatUsd } from "@/components/keys/format";

export interface StatTile {
  label: string;
  value: ReactNode;
  hint?: string;
}

export function StatTiles({ items }: { items: StatTile[] }) {
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4 xl:grid-cols-8" data-testid="stat-tiles">
      {items.map((i) => (
        <div
          key={i.label}
          className="min-w-0 rounded-lg border border-border bg-card p-3"
          data-testid="stat-tile"
        >
          <dt className="truncate text-xs text-muted-foreground" title={i.hint}>
            {i.label}
          </dt>
          <dd className="mt-1 truncate text-lg font-semibold tabular-nums">{i.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** What the usage tiles show for a range (percentiles from the range's merged histogram). */
export type UsageTotals = Pick<
  RangeStats,
  "requests" | "errors" | "errorRate" | "p50LatencyMs" | "p95LatencyMs" | "tokens" | "costUsd"
>;

const PERCENTILE_HINT = "Over every request in the range (merged latency histograms, within 2%)";

/**
 * The range tiles of the usage page and the key page: requests, errors, error rate, p50 / p95
 * (of the whole range, not averaged over days), tokens, cost, and one tile of the page's own.
 */
export function UsageStatTiles({ totals: t, last }: { totals: UsageTotals; last: StatTile }) {
  return (
    <StatTiles
      items={[
        { label: "Requests", value: formatNumber(t.requests) },
        { label: "Errors", value: formatNumber(t.errors) },
        { label: "Error rate", value: formatPercent(t.errorRate) },
        { label: "p50 latency", value: formatMs(t.p50LatencyMs), hint: PERCENTILE_HINT },
        { label: "p95 latency", value: formatMs(t.p95LatencyMs), hint: PERCENTILE_HINT },
        { label: "Tokens", value: formatNumber(t.tokens) },
        { label: "Cost", value: formatUsd(t.costUsd) },
        last,
      ]}
    />
  );
}
