import { ArrowLeft } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { PageHeader } from "@/components/dashboard/page-header";
import { EditKeyButton } from "@/components/keys/edit-key-dialog";
import { formatDateTime, formatNumber, formatRelative, maskedKey } from "@/components/keys/format";
import { KeyActions } from "@/components/keys/key-actions";
import { EnvironmentBadge, StatusBadge } from "@/components/keys/key-badges";
import { KeyLeakNotice } from "@/components/keys/key-leak-notice";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Skeleton } from "@/components/ui/skeleton";
import { RangePicker } from "@/components/usage/range-picker";
import { UsageStatTiles } from "@/components/usage/stat-tiles";
import { UsageCharts } from "@/components/usage/usage-charts";
import { EndpointTable } from "@/components/usage/usage-tables";
import { canManage } from "@/lib/auth/roles";
import { type DateRange, parseDateRange } from "@/lib/url-state/date-range";
import { type OrgPageProps, requireMemberPage } from "../../../_lib/access";
import { findKey, getKeyUsage, type KeyView, monthToDateSpend } from "../../../_lib/data";

const formatUsd = (v: string) =>
  `$${Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;

export const metadata: Metadata = { title: "Key · Keyward" };

export default async function KeyDetailPage(props: OrgPageProps<{ org: string; id: string }>) {
  const { organization, role, params, searchParams: sp } = await requireMemberPage(props);
  const key = await findKey(organization.id, params.id);
  if (!key) notFound();
  const spend = key.spendLimitUsd ? await monthToDateSpend(organization.id, key.id) : null;
  const range = parseDateRange({ range: sp.range, from: sp.from, to: sp.to });
  const slug = organization.slug;
  return (
    <>
      <Link
        href={`/${slug}/keys`}
        className="mb-3 inline-flex items-center gap-1 text-sm text-muted-foreground hover:text-foreground"
      >
        <ArrowLeft className="size-4" aria-hidden="true" /> All keys
      </Link>
      <PageHeader
        title={<span data-testid="key-name">{key.name}</span>}
        description={<code className="font-mono">{maskedKey(key.prefix, key.hint)}</code>}
        actions={
          canManage(role) && key.status !== "revoked" ? (
            <>
              <EditKeyButton
                slug={slug}
                planRateLimit={organization.rateLimitPerMinute}
                apiKey={{
                  id: key.id,
                  name: key.name,
                  scopes: key.scopes,
                  expiresAt: key.expiresAt,
                  rateLimitPerMinute: key.rateLimitPerMinute,
                  rotatedToId: key.rotatedToId,
                  credits: key.credits,
                  spendLimitUsd: key.spendLimitUsd,
                  allowedCidrs: key.allowedCidrs,
                  externalId: key.externalId,
                  meta: key.meta,
                }}
              />
              {key.status === "active" ? (
                <KeyActions slug={slug} apiKey={key} canRotate={!key.rotatedToId} />
              ) : null}
            </>
          ) : null
        }
      />
      <KeyLeakNotice apiKey={key} />
      <KeyFacts apiKey={key} slug={slug} spentUsd={spend?.key ?? null} />
      <div className="mt-8 mb-4 flex flex-col gap-3 lg:flex-row lg:items-center lg:justify-between">
        <h2 className="text-lg font-semibold">Usage</h2>
        <RangePicker basePath={`/${slug}/keys/${key.id}`} range={range} />
      </div>
      <Suspense key={`${range.from}-${range.to}`} fallback={<Skeleton className="h-96 w-full" />}>
        <KeyUsage organizationId={organization.id} apiKey={key} range={range} />
      </Suspense>
    </>
  );
}

function KeyFacts({
  apiKey: k,
  slug,
  spentUsd,
}: {
  apiKey: KeyView;
  slug: string;
  /** This month's metered cost, when the key has a spend cap. */
  spentUsd: string | null;
}) {
  const facts: Array<[string, React.ReactNode]> = [
    ["Status", <StatusBadge key="s" status={k.status} />],
    ["Environment", <EnvironmentBadge key="e" environment={k.environment} />],
    [
      "Scopes",
      k.scopes.length ? (
        <span key="sc" className="flex flex-wrap gap-1">
          {k.scopes.map((s) => (
            <Badge key={s} className="font-mono">
              {s}
            </Badge>
          ))}
        </span>
      ) : (
        "none"
      ),
    ],
    ["Created", formatDateTime(k.createdAt)],
    ["Expires", k.expiresAt ? formatDateTime(k.expiresAt) : "Never"],
    ["Last used", formatRelative(k.lastUsedAt)],
    ["Requests (all time)", formatNumber(k.requestCount)],
    [
      "Rate limit",
      k.rateLimitPerMinute ? `${formatNumber(k.rateLimitPerMinute)} / min` : "Plan default",
    ],
  ];
  facts.push([
    "Credits left",
    k.credits ? (
      <span key="cr" data-testid="key-credits">
        {formatNumber(k.credits.remaining)}
        {k.credits.refill
          ? ` (refills to ${formatNumber(k.credits.refill.amount)} each ${k.credits.refill.interval}, UTC)`
          : ""}
      </span>
    ) : (
      "No credits"
    ),
  ]);
  facts.push([
    "Spend this month",
    k.spendLimitUsd ? (
      <span key="sp" data-testid="key-spend">
        {formatUsd(spentUsd ?? "0")} of {formatUsd(k.spendLimitUsd)}
      </span>
    ) : (
      "No spend limit"
    ),
  ]);
  facts.push(
    [
      "Allowed networks",
      k.allowedCidrs.length ? (
        <span key="cidrs" data-testid="key-cidrs" className="flex flex-wrap gap-1">
          {k.allowedCidrs.map((c) => (
            <Badge key={c} className="font-mono">
              {c}
            </Badge>
          ))}
        </span>
      ) : (
        "Any address"
      ),
    ],
    [
      "External id",
      k.externalId ? (
        <code key="ext" data-testid="key-external-id" className="font-mono break-all">
          {k.externalId}
        </code>
      ) : (
        "None"
      ),
    ],
  );
  if (k.revokedAt)
    facts.push([
      "Revoked",
      `${formatDateTime(k.revokedAt)}${k.revokedReason ? ` — ${k.revokedReason}` : ""}`,
    ]);
  return (
    <Card data-testid="key-facts">
      <CardContent className="pt-4">
        <dl className="grid grid-cols-2 gap-x-6 gap-y-3 lg:grid-cols-4">
          {facts.map(([label, value]) => (
            <div key={label} className="min-w-0">
              <dt className="text-xs text-muted-foreground">{label}</dt>
              <dd className="mt-0.5 text-sm">{value}</dd>
            </div>
          ))}
        </dl>
        {k.meta ? (
          <div className="mt-4">
            <p className="text-xs text-muted-foreground">Metadata</p>
            <pre
              data-testid="key-meta"
              className="mt-1 max-h-48 overflow-auto rounded-md bg-muted p-2 font-mono text-xs"
            >
              {JSON.stringify(k.meta, null, 2)}
            </pre>
          </div>
        ) : null}
        {k.rotatedToId ? (
          <p className="mt-4 text-sm text-muted-foreground">
            Rotated: its successor is{" "}
            <Link href={`/${slug}/keys/${k.rotatedToId}`} className="text-primary hover:underline">
              this key
            </Link>
            {k.expiresAt ? `; this one stops working ${formatDateTime(k.expiresAt)}.` : "."}
          </p>
        ) : null}
      </CardContent>
    </Card>
  );
}

async function KeyUsage({
  organizationId,
  apiKey,
  range,
}: {
  organizationId: string;
  apiKey: KeyView;
  range: DateRange;
}) {
  const usage = await getKeyUsage(organizationId, apiKey.id, range);
  const t = usage.totals;
  return (
    <div className="space-y-6">
      <UsageStatTiles
        totals={t}
        last={{
          label: "Last used",
          value: formatRelative(apiKey.lastUsedAt, Date.now(), "narrow"),
        }}
      />
      {t.requests === 0 ? (
        <EmptyState
          title="No requests in this range"
          description="Send a request with this key (Authorization: Bearer …) and its usage shows here within seconds. Try a longer range for older traffic."
        />
      ) : (
        <>
          <UsageCharts daily={usage.daily} />
          <div>
            <h3 className="mb-2 text-base font-semibold">By endpoint</h3>
            <EndpointTable rows={usage.endpoints} />
          </div>
        </>
      )}
    </div>
  );
}
