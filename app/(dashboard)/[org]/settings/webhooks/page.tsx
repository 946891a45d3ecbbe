import { Webhook } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { PageHeader } from "@/components/dashboard/page-header";
import { formatDateTime } from "@/components/keys/format";
import { EmptyState } from "@/components/ui/empty-state";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { DeliveryStatusBadge, EndpointStateBadge } from "@/components/webhooks/webhook-badges";
import { CreateWebhookButton } from "@/components/webhooks/webhook-forms";
import { canManage } from "@/lib/auth/roles";
import { WEBHOOK_ENDPOINTS_MAX } from "@/lib/validation/rules";
import { WEBHOOK_EVENT_TYPES } from "@/lib/validation/webhooks";
import { requireMember } from "../../../_lib/access";
import { listWebhooks } from "../../../_lib/data";

export const metadata: Metadata = { title: "Webhooks · Keyward" };

export default async function WebhooksPage({ params }: { params: Promise<{ org: string }> }) {
  const { org } = await params;
  const { organization, role } = await requireMember(org);
  const manage = canManage(role);
  const webhooks = await listWebhooks(organization.id);
  const slug = organization.slug;
  const create =
    manage && webhooks.length < WEBHOOK_ENDPOINTS_MAX ? (
      <CreateWebhookButton slug={slug} eventTypes={WEBHOOK_EVENT_TYPES} />
    ) : null;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link
          href={`/${slug}/settings`}
          className="text-muted-foreground underline underline-offset-2 hover:text-foreground"
        >
          Settings
        </Link>{" "}
        <span aria-hidden="true">/</span> Webhooks
      </nav>
      <PageHeader
        title="Webhooks"
        description={`Endpoints that receive signed events about keys, quotas and limits (at most ${WEBHOOK_ENDPOINTS_MAX}). Failed deliveries are retried for 24 hours.`}
        actions={create}
      />
      {webhooks.length === 0 ? (
        <EmptyState
          icon={<Webhook className="size-8" aria-hidden="true" />}
          title="No webhook endpoints yet"
          description={
            manage
              ? "Add a URL and choose the events it receives. You will see its signing secret once."
              : "An admin or owner can add one."
          }
          action={create}
        />
      ) : (
        <Table data-testid="webhooks-table">
          <THead>
            <tr>
              <TH>URL</TH>
              <TH>Events</TH>
              <TH>State</TH>
              <TH>Last delivery</TH>
            </tr>
          </THead>
          <TBody>
            {webhooks.map((w) => (
              <TR key={w.id} data-testid="webhook-row" data-webhook-id={w.id}>
                <TD className="max-w-xs">
                  <Link
                    href={`/${slug}/settings/webhooks/${w.id}`}
                    className="font-medium break-all underline-offset-2 hover:underline"
                  >
                    {w.url}
                  </Link>
                  {w.description ? (
                    <div className="text-xs text-muted-foreground">{w.description}</div>
                  ) : null}
                </TD>
                <TD className="text-xs">
                  {w.eventTypes.map((t) => (
                    <code key={t} className="mr-1 font-mono">
                      {t}
                    </code>
                  ))}
                </TD>
                <TD>
                  <EndpointStateBadge enabled={w.enabled} disabledReason={w.disabledReason} />
                </TD>
                <TD>
                  {w.lastDelivery ? (
                    <span className="flex flex-wrap items-center gap-1.5 text-xs text-muted-foreground">
                      <DeliveryStatusBadge status={w.lastDelivery.status} />
                      {w.lastDelivery.statusCode ?? ""} {formatDateTime(w.lastDelivery.at)}
                    </span>
                  ) : (
                    <span className="text-xs text-muted-foreground">None yet</span>
                  )}
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </>
  );
}
