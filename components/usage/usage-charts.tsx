"use client";
// The usage charts (recharts, client side). They draw SQL aggregates per UTC day; money arrives
// as decimal strings and becomes a number only for plotting.
import type { ReactNode } from "react";
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { DailyStat } from "@/app/(dashboard)/_lib/data";

/** One UTC day of the usage repository's daily stats, as far as the charts draw it. */
export type DailyPoint = Pick<
  DailyStat,
  | "date"
  | "requests"
  | "status2xx"
  | "status3xx"
  | "status4xx"
  | "status5xx"
  | "errors"
  | "p50LatencyMs"
  | "p95LatencyMs"
  | "tokens"
  | "costUsd"
>;

/** The chart tokens of app/globals.css (light and dark values there). */
const COLORS = {
  s2: "var(--color-chart-2xx)",
  s3: "var(--color-chart-3xx)",
  s4: "var(--color-chart-4xx)",
  s5: "var(--color-chart-5xx)",
  p50: "var(--color-chart-p50)",
  p95: "var(--color-chart-p95)",
  tokens: "var(--color-chart-tokens)",
  cost: "var(--color-chart-cost)",
  grid: "var(--color-chart-grid)",
  axis: "var(--color-chart-axis)",
};

const shortDate = (d: string) => {
  const [, m, day] = d.split("-");
  return `${day}/${m}`;
};
/** Cost axis: cents under a dollar, compact above. */
function costTick(data: Array<{ cost: number }>) {
  const max = Math.max(0, ...data.map((d) => d.cost));
  return (v: number) => (max < 1 ? `$${v.toFixed(max < 0.1 ? 3 : 2)}` : `$${compact.format(v)}`);
}
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const axisProps = {
  tick: { fontSize: 11, fill: COLORS.axis },
  tickLine: false,
  axisLine: false,
} as const;
const tooltipStyle = {
  contentStyle: {
    background: "var(--color-card)",
    border: "1px solid var(--color-border)",
    borderRadius: 6,
    fontSize: 12,
    color: "var(--color-foreground)",
  },
  labelStyle: { color: "var(--color-foreground)", fontWeight: 600 },
  cursor: { fill: "var(--color-chart-cursor)" },
} as const;

const MARGIN = { top: 4, right: 4, bottom: 0, left: -12 };

/** The grid and the day axis every chart has (elements, not a component: recharts reads them). */
function dayGrid() {
  return [
    <CartesianGrid key="grid" vertical={false} stroke={COLORS.grid} />,
    <XAxis key="x" dataKey="date" tickFormatter={shortDate} minTickGap={16} {...axisProps} />,
  ];
}

const STATUS = {
  "2xx": { dataKey: "status2xx", fill: COLORS.s2 },
  "3xx": { dataKey: "status3xx", fill: COLORS.s3 },
  "4xx": { dataKey: "status4xx", fill: COLORS.s4 },
  "5xx": { dataKey: "status5xx", fill: COLORS.s5 },
} as const;

/** Stacked bars per status class, the top one rounded. */
function statusBars(stackId: string, classes: Array<keyof typeof STATUS>) {
  return classes.map((c, i) => (
    <Bar
      key={c}
      isAnimationActive={false}
      dataKey={STATUS[c].dataKey}
      name={c}
      stackId={stackId}
      fill={STATUS[c].fill}
      radius={i === classes.length - 1 ? [2, 2, 0, 0] : undefined}
    />
  ));
}

function ChartCard({
  title,
  summary,
  children,
  testId,
}: {
  title: string;
  summary: string;
  children: ReactNode;
  testId: string;
}) {
  return (
    <figure
      className="min-w-0 rounded-lg border border-border bg-card p-4"
      data-testid={testId}
      aria-label={`${title}: ${summary}`}
    >
      <figcaption className="mb-3 flex items-baseline justify-between gap-2">
        <span className="text-sm font-semibold">{title}</span>
        <span className="truncate text-xs text-muted-foreground">{summary}</span>
      </figcaption>
      <div className="h-56 w-full">
        <ResponsiveContainer width="100%" height="100%" minWidth={0}>
          {children as React.ReactElement}
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export function UsageCharts({ daily }: { daily: DailyPoint[] }) {
  const data = daily.map((d) => ({ ...d, cost: Number(d.costUsd) }));
  const sum = (f: (d: (typeof data)[number]) => number) => data.reduce((s, d) => s + f(d), 0);
  const requests = sum((d) => d.requests);
  const errors = sum((d) => d.errors);
  const tokens = sum((d) => d.tokens);
  const cost = sum((d) => d.cost);
  const maxP95 = Math.max(0, ...data.map((d) => d.p95LatencyMs ?? 0));
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <ChartCard
        title="Requests per day"
        summary={`${compact.format(requests)} total, by status class`}
        testId="chart-requests"
      >
        <BarChart data={data} margin={MARGIN}>
          {dayGrid()}
          <YAxis tickFormatter={(v: number) => compact.format(v)} width={48} {...axisProps} />
          <Tooltip {...tooltipStyle} />
          <Legend iconType="square" wrapperStyle={{ fontSize: 12 }} />
          {statusBars("s", ["2xx", "3xx", "4xx", "5xx"])}
        </BarChart>
      </ChartCard>
      <ChartCard
        title="Errors per day"
        summary={`${compact.format(errors)} errors (status ≥ 400)`}
        testId="chart-errors"
      >
        <BarChart data={data} margin={MARGIN}>
          {dayGrid()}
          <YAxis
            tickFormatter={(v: number) => compact.format(v)}
            width={48}
            allowDecimals={false}
            {...axisProps}
          />
          <Tooltip {...tooltipStyle} />
          <Legend iconType="square" wrapperStyle={{ fontSize: 12 }} />
          {statusBars("e", ["4xx", "5xx"])}
        </BarChart>
      </ChartCard>
      <ChartCard
        title="Latency"
        summary={`p50 and p95 per day, peak p95 ${Math.round(maxP95)} ms`}
        testId="chart-latency"
      >
        <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: -12 }}>
          {dayGrid()}
          <YAxis unit=" ms" width={60} {...axisProps} />
          <Tooltip
            {...tooltipStyle}
            formatter={(v) => (typeof v === "number" ? `${Math.round(v)} ms` : "—")}
          />
          <Legend iconType="plainline" wrapperStyle={{ fontSize: 12 }} />
          <Line
            isAnimationActive={false}
            type="monotone"
            dataKey="p50LatencyMs"
            name="p50"
            stroke={COLORS.p50}
            dot={false}
            strokeWidth={2}
            connectNulls
          />
          <Line
            isAnimationActive={false}
            type="monotone"
            dataKey="p95LatencyMs"
            name="p95"
            stroke={COLORS.p95}
            dot={false}
            strokeWidth={2}
            connectNulls
          />
        </LineChart>
      </ChartCard>
      <ChartCard
        title="Tokens per day"
        summary={`${compact.format(tokens)} tokens`}
        testId="chart-tokens"
      >
        <AreaChart data={data} margin={MARGIN}>
          {dayGrid()}
          <YAxis tickFormatter={(v: number) => compact.format(v)} width={48} {...axisProps} />
          <Tooltip
            {...tooltipStyle}
            formatter={(v) => (typeof v === "number" ? v.toLocaleString("en-US") : v)}
          />
          <Area
            isAnimationActive={false}
            type="monotone"
            dataKey="tokens"
            name="Tokens"
            stroke={COLORS.tokens}
            fill={COLORS.tokens}
            fillOpacity={0.2}
          />
        </AreaChart>
      </ChartCard>
      <ChartCard
        title="Cost per day (USD)"
        summary={`$${cost.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} total`}
        testId="chart-cost"
      >
        <BarChart data={data} margin={MARGIN}>
          {dayGrid()}
          <YAxis tickFormatter={costTick(data)} width={52} {...axisProps} />
          <Tooltip
            {...tooltipStyle}
            formatter={(v) => (typeof v === "number" ? `$${v.toFixed(v < 1 ? 4 : 2)}` : v)}
          />
          <Bar
            isAnimationActive={false}
            dataKey="cost"
            name="Cost"
            fill={COLORS.cost}
            radius={[2, 2, 0, 0]}
          />
        </BarChart>
      </ChartCard>
    </div>
  );
}
