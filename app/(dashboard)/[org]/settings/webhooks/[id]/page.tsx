import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { CursorPagination } from "@/components/dashboard/cursor-pagination";
import { PageHeader } from "@/components/dashboard/page-header";
import { formatDateTime } from "@/components/keys/format";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { DeliveryStatusBadge, EndpointStateBadge } from "@/components/webhooks/webhook-badges";
import {
  RefreshButton,
  ResendDeliveryButton,
  WebhookActions,
} from "@/components/webhooks/webhook-forms";
import { canManage } from "@/lib/auth/roles";
import { FIRST_PAGE, parsePagePosition } from "@/lib/url-state/pagination";
import { WEBHOOK_EVENT_TYPES } from "@/lib/validation/webhooks";
import { firstParam, type OrgPageProps, requireMemberPage } from "../../../../_lib/access";
import {
  findWebhook,
  listWebhookDeliveries,
  type WebhookDeliveryView,
} from "../../../../_lib/data";

export const metadata: Metadata = { title: "Webhook endpoint · Keyward" };

export default async function WebhookPage(props: OrgPageProps<{ org: string; id: string }>) {
  const { organization, role, params, searchParams } = await requireMemberPage(props);
  const webhook = await findWebhook(organization.id, params.id);
  if (!webhook) notFound();
  const slug = organization.slug;
  const manage = canManage(role);
  let position = parsePagePosition(firstParam(searchParams.cursor), firstParam(searchParams.back));
  let page: Awaited<ReturnType<typeof listWebhookDeliveries>>;
  try {
    page = await listWebhookDeliveries(organization.id, webhook.id, position.cursor);
  } catch (e) {
    // A cursor that does not decode: start from the first page.
    if ((e as { code?: string }).code !== "BAD_REQUEST" || !position.cursor) throw e;
    position = FIRST_PAGE;
    page = await listWebhookDeliveries(organization.id, webhook.id, undefined);
  }
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link
          href={`/${slug}/settings`}
          className="text-muted-foreground underline underline-offset-2 hover:text-foreground"
        >
          Settings
        </Link>{" "}
        <span aria-hidden="true">/</span>{" "}
        <Link
          href={`/${slug}/settings/webhooks`}
          className="text-muted-foreground underline underline-offset-2 hover:text-foreground"
        >
          Webhooks
        </Link>
      </nav>
      <PageHeader
        title={<span className="break-all">{webhook.url}</span>}
        description={webhook.description || undefined}
      />
      <Card className="mb-6">
        <CardHeader>
          <CardTitle className="flex items-center gap-2">
            Endpoint
            <EndpointStateBadge enabled={webhook.enabled} disabledReason={webhook.disabledReason} />
          </CardTitle>
        </CardHeader>
        <CardContent className="space-y-4">
          <dl className="grid gap-3 text-sm sm:grid-cols-3">
            <div>
              <dt className="text-xs text-muted-foreground">Events</dt>
              <dd className="font-mono text-xs" data-testid="webhook-events">
                {webhook.eventTypes.join(", ")}
              </dd>
            </div>
            <div>
              <dt className="text-xs text-muted-foreground">Failing since</dt>
              <dd>{webhook.failingSince ? formatDateTime(webhook.failingSince) : "—"}</dd>
            </div>
            <div>
              <dt className="text-xs text-muted-foreground">Previous secret signs until</dt>
              <dd>
                {webhook.previousSecretExpiresAt
                  ? formatDateTime(webhook.previousSecretExpiresAt)
                  : "—"}
              </dd>
            </div>
          </dl>
          {manage ? (
            <WebhookActions slug={slug} webhook={webhook} eventTypes={WEBHOOK_EVENT_TYPES} />
          ) : (
            <p className="text-xs text-muted-foreground">Viewers cannot change endpoints.</p>
          )}
        </CardContent>
      </Card>

      <section aria-labelledby="deliveries-heading">
        <div className="mb-3 flex items-center justify-between gap-2">
          <h2 id="deliveries-heading" className="text-lg font-semibold">
            Deliveries
          </h2>
          <RefreshButton />
        </div>
        {page.items.length === 0 && !position.cursor ? (
          <EmptyState
            title="No deliveries yet"
            description="Events this endpoint receives show here, with every attempt. Send a test event to try it."
          />
        ) : (
          <>
            <DeliveryTable
              slug={slug}
              webhookId={webhook.id}
              deliveries={page.items}
              manage={manage}
            />
            <CursorPagination
              basePath={`/${slug}/settings/webhooks/${webhook.id}`}
              filters={{}}
              position={position}
              nextCursor={page.nextCursor}
              summary={`${page.items.length} deliver${page.items.length === 1 ? "y" : "ies"} on this page`}
            />
          </>
        )}
      </section>
    </>
  );
}

function DeliveryTable({
  slug,
  webhookId,
  deliveries,
  manage,
}: {
  slug: string;
  webhookId: string;
  deliveries: WebhookDeliveryView[];
  manage: boolean;
}) {
  return (
    <Table data-testid="deliveries-table">
      <THead>
        <tr>
          <TH>Event</TH>
          <TH>Status</TH>
          <TH>Attempts</TH>
          <TH>Response</TH>
          <TH>Next retry</TH>
          {manage ? (
            <TH>
              <span className="sr-only">Actions</span>
            </TH>
          ) : null}
        </tr>
      </THead>
      <TBody>
        {deliveries.map((d) => (
          <TR key={d.id} data-testid="delivery-row" data-delivery-id={d.id}>
            <TD className="align-top">
              <code className="font-mono text-xs">{d.eventType}</code>
              <div className="text-xs text-muted-foreground">{formatDateTime(d.createdAt)}</div>
              {d.attemptLog.length > 0 ? (
                <details className="mt-1 text-xs">
                  <summary className="cursor-pointer text-muted-foreground">
                    Attempt details
                  </summary>
                  <ol className="mt-1 space-y-1" data-testid="attempt-log">
                    {d.attemptLog.map((a) => (
                      <li key={a.attemptedAt} className="rounded bg-muted px-2 py-1">
                        {formatDateTime(a.attemptedAt)}: {a.statusCode ?? "no response"} in{" "}
                        {a.durationMs} ms
                        {a.error ? <span className="block text-danger">{a.error}</span> : null}
                        {a.responseBody ? (
                          <pre className="mt-1 max-h-24 overflow-auto whitespace-pre-wrap break-all font-mono">
                            {a.responseBody}
                          </pre>
                        ) : null}
                      </li>
                    ))}
                  </ol>
                </details>
              ) : null}
            </TD>
            <TD className="align-top">
              <DeliveryStatusBadge status={d.status} />
              {d.lastError ? <div className="mt-1 text-xs text-danger">{d.lastError}</div> : null}
            </TD>
            <TD className="align-top tabular-nums" data-testid="delivery-attempts">
              {d.attempts}
            </TD>
            <TD className="align-top text-xs tabular-nums" data-testid="delivery-response">
              {d.lastStatusCode ?? "—"}
              {d.lastResponseMs !== null ? ` · ${d.lastResponseMs} ms` : ""}
            </TD>
            <TD className="align-top text-xs">
              {d.nextAttemptAt ? formatDateTime(d.nextAttemptAt) : "—"}
            </TD>
            {manage ? (
              <TD className="align-top">
                <ResendDeliveryButton slug={slug} webhookId={webhookId} deliveryId={d.id} />
              </TD>
            ) : null}
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
