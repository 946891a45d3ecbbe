import { ScrollText } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { CursorPagination } from "@/components/dashboard/cursor-pagination";
import { PageHeader } from "@/components/dashboard/page-header";
import { formatDateTime } from "@/components/keys/format";
import { Badge } from "@/components/ui/badge";
import { buttonClasses } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Select } from "@/components/ui/select";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { FIRST_PAGE, parsePagePosition } from "@/lib/url-state/pagination";
import { firstParam, type OrgPageProps, requireMemberPage } from "../../_lib/access";
import { AUDIT_ACTIONS, listAuditPage } from "../../_lib/data";

export const metadata: Metadata = { title: "Audit log · Keyward" };

export default async function AuditPage(props: OrgPageProps) {
  const { organization, searchParams: sp } = await requireMemberPage(props);
  const actionParam = firstParam(sp.action);
  const action = (AUDIT_ACTIONS as readonly string[]).includes(actionParam ?? "")
    ? actionParam
    : undefined;
  let position = parsePagePosition(firstParam(sp.cursor), firstParam(sp.back));
  let page: Awaited<ReturnType<typeof listAuditPage>>;
  try {
    page = await listAuditPage(organization.id, organization.slug, {
      action,
      cursor: position.cursor,
    });
  } catch (e) {
    // A cursor that does not decode: start from the newest entries.
    if ((e as { code?: string }).code !== "BAD_REQUEST") throw e;
    position = FIRST_PAGE;
    page = await listAuditPage(organization.id, organization.slug, { action });
  }
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who did what to which key or member, when and from where. Entries cannot be changed."
      />
      <search className="mb-4">
        <form method="get" className="flex gap-2">
          <label htmlFor="audit-action" className="sr-only">
            Action
          </label>
          <Select
            id="audit-action"
            name="action"
            defaultValue={action ?? ""}
            className="w-auto min-w-56"
          >
            <option value="">All actions</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </Select>
          <button type="submit" className={buttonClasses("secondary")}>
            Filter
          </button>
        </form>
      </search>
      {page.items.length === 0 ? (
        <EmptyState
          icon={<ScrollText className="size-8" aria-hidden="true" />}
          title={action ? "No entries for this action" : "Nothing recorded yet"}
          description={
            action
              ? "Choose another action, or all actions."
              : "Creating, rotating or revoking a key, and changes to members and settings, are recorded here."
          }
        />
      ) : (
        <>
          <Table data-testid="audit-table">
            <THead>
              <tr>
                <TH>When</TH>
                <TH>Action</TH>
                <TH>Who</TH>
                <TH>Target</TH>
                <TH>Details</TH>
                <TH>From</TH>
              </tr>
            </THead>
            <TBody>
              {page.items.map((e) => (
                <TR key={e.id} data-testid="audit-row">
                  <TD className="text-muted-foreground">{formatDateTime(e.createdAt)}</TD>
                  <TD>
                    <Badge
                      tone={
                        e.action.endsWith("revoked") || e.action.endsWith("removed")
                          ? "danger"
                          : "neutral"
                      }
                      className="font-mono"
                    >
                      {e.action}
                    </Badge>
                  </TD>
                  <TD className="max-w-[14rem] truncate">{e.actor}</TD>
                  <TD className="max-w-[16rem] truncate">
                    {e.targetHref ? (
                      <Link href={e.targetHref} className="hover:underline">
                        {e.target}
                      </Link>
                    ) : (
                      (e.target ?? "—")
                    )}
                  </TD>
                  <TD
                    className="max-w-[20rem] truncate text-muted-foreground"
                    title={e.details ?? undefined}
                  >
                    {e.details ?? "—"}
                  </TD>
                  <TD className="font-mono text-xs text-muted-foreground">{e.ipAddress ?? "—"}</TD>
                </TR>
              ))}
            </TBody>
          </Table>
          <CursorPagination
            basePath={`/${organization.slug}/audit`}
            filters={{ action }}
            position={position}
            nextCursor={page.nextCursor}
            summary={`${page.items.length} entr${page.items.length === 1 ? "y" : "ies"} on this page, newest first`}
          />
        </>
      )}
    </>
  );
}
