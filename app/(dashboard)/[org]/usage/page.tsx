import { BarChart3, Download } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { PageHeader } from "@/components/dashboard/page-header";
import { formatNumber } from "@/components/keys/format";
import { buttonClasses } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Skeleton } from "@/components/ui/skeleton";
import { RangePicker } from "@/components/usage/range-picker";
import { UsageStatTiles } from "@/components/usage/stat-tiles";
import { UsageCharts } from "@/components/usage/usage-charts";
import { EndpointTable, TopKeysTable } from "@/components/usage/usage-tables";
import { type DateRange, parseDateRange, rangeQuery } from "@/lib/url-state/date-range";
import { type OrgPageProps, requireMemberPage } from "../../_lib/access";
import { getUsageOverview } from "../../_lib/data";

export const metadata: Metadata = { title: "Usage · Keyward" };

export default async function UsagePage(props: OrgPageProps) {
  const { organization, searchParams: sp } = await requireMemberPage(props);
  const range = parseDateRange({ range: sp.range, from: sp.from, to: sp.to });
  const exportHref = `/${organization.slug}/usage/export?${new URLSearchParams(rangeQuery(range))}`;
  return (
    <>
      <PageHeader
        title="Usage"
        description={`Requests, errors, latency, tokens and cost for ${organization.name}, per UTC day (${range.from} to ${range.to}).`}
        actions={
          <a
            href={exportHref}
            className={buttonClasses("outline")}
            data-testid="export-csv"
            download
          >
            <Download className="size-4" aria-hidden="true" /> Export CSV
          </a>
        }
      />
      <div className="mb-6">
        <RangePicker basePath={`/${organization.slug}/usage`} range={range} />
        {range.error ? (
          <p className="mt-2 text-sm text-danger" data-testid="range-error">
            {range.error} Showing the last 30 days.
          </p>
        ) : null}
      </div>
      <Suspense key={`${range.from}-${range.to}`} fallback={<UsageSkeleton />}>
        <UsageBody organizationId={organization.id} slug={organization.slug} range={range} />
      </Suspense>
    </>
  );
}

async function UsageBody({
  organizationId,
  slug,
  range,
}: {
  organizationId: string;
  slug: string;
  range: DateRange;
}) {
  const usage = await getUsageOverview(organizationId, range);
  const t = usage.totals;
  if (t.requests === 0) {
    return (
      <EmptyState
        icon={<BarChart3 className="size-8" aria-hidden="true" />}
        title="No requests in this range"
        description={
          <>
            Usage appears once a key is used: call the API with{" "}
            <code className="font-mono">Authorization: Bearer pk_…</code>, or have your services
            report events to <code className="font-mono">POST /api/v1/usage/events</code>. Try a
            longer range if you expected traffic.
          </>
        }
        action={
          <Link href={`/${slug}/keys`} className={buttonClasses("outline")}>
            Go to keys
          </Link>
        }
      />
    );
  }
  return (
    <div className="space-y-6">
      <UsageStatTiles
        totals={t}
        last={{
          label: "Requests / day",
          value: formatNumber(Math.round(t.requests / Math.max(1, usage.daily.length))),
        }}
      />
      <UsageCharts daily={usage.daily} />
      <section className="grid gap-6 2xl:grid-cols-2">
        <div className="min-w-0">
          <h2 className="mb-2 text-base font-semibold">By endpoint</h2>
          <EndpointTable rows={usage.endpoints} />
        </div>
        <div className="min-w-0">
          <h2 className="mb-2 text-base font-semibold">Top keys</h2>
          <TopKeysTable slug={slug} rows={usage.topKeys} />
        </div>
      </section>
    </div>
  );
}

function UsageSkeleton() {
  return (
    <div className="space-y-6" data-testid="usage-loading">
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-4 xl:grid-cols-8">
        {Array.from({ length: 8 }, (_, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: static placeholders
          <Skeleton key={i} className="h-16" />
        ))}
      </div>
      <div className="grid gap-4 lg:grid-cols-2">
        {Array.from({ length: 4 }, (_, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: static placeholders
          <Skeleton key={i} className="h-72" />
        ))}
      </div>
    </div>
  );
}
