import Link from "next/link";
import type { KeyView } from "@/app/(dashboard)/_lib/data";
import { Badge } from "@/components/ui/badge";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { formatDate, formatDateTime, formatNumber, formatRelative, maskedKey } from "./format";
import { KeyActions } from "./key-actions";
import { EnvironmentBadge, LeakedBadge, StatusBadge } from "./key-badges";

/** Soon (under two days, e.g. the end of a rotation's grace period): with the time. */
function expiresText(expiresAt: string | null): string {
  if (!expiresAt) return "Never";
  const inMs = new Date(expiresAt).getTime() - Date.now();
  return inMs > 0 && inMs < 2 * 86_400_000 ? formatDateTime(expiresAt) : formatDate(expiresAt);
}

export function KeysTable({
  slug,
  keys,
  canManage,
}: {
  slug: string;
  keys: KeyView[];
  canManage: boolean;
}) {
  return (
    <Table data-testid="keys-table">
      <THead>
        <tr>
          <TH>Name</TH>
          <TH>Key</TH>
          <TH>Env</TH>
          <TH>Status</TH>
          <TH>Scopes</TH>
          <TH>Created</TH>
          <TH>Expires</TH>
          <TH>Last used</TH>
          <TH className="text-right">Requests</TH>
          <TH className="text-right">Credits</TH>
          {canManage ? (
            <TH>
              <span className="sr-only">Actions</span>
            </TH>
          ) : null}
        </tr>
      </THead>
      <TBody>
        {keys.map((k) => (
          <TR key={k.id} data-testid="key-row" data-key-id={k.id}>
            <TD className="max-w-[14rem] truncate font-medium">
              <Link
                href={`/${slug}/keys/${k.id}`}
                className="hover:underline focus-visible:outline-2 focus-visible:outline-ring"
              >
                {k.name}
              </Link>
            </TD>
            <TD>
              <code className="font-mono text-xs">{maskedKey(k.prefix, k.hint)}</code>
            </TD>
            <TD>
              <EnvironmentBadge environment={k.environment} />
            </TD>
            <TD>
              <span className="flex items-center gap-1">
                <StatusBadge status={k.status} />
                {k.leak ? <LeakedBadge reportedAt={k.leak.reportedAt} /> : null}
                {k.rotatedToId && k.status === "active" ? (
                  <Badge tone="warning" title="Rotated: works until its grace period ends">
                    rotating
                  </Badge>
                ) : null}
              </span>
            </TD>
            <TD className="max-w-[16rem]">
              <div className="flex flex-wrap gap-1">
                {k.scopes.length ? (
                  k.scopes.map((s) => (
                    <Badge key={s} tone="neutral" className="font-mono">
                      {s}
                    </Badge>
                  ))
                ) : (
                  <span className="text-xs text-muted-foreground">none</span>
                )}
              </div>
            </TD>
            <TD className="text-muted-foreground">{formatDate(k.createdAt)}</TD>
            <TD className="text-muted-foreground" data-testid="key-expires">
              {expiresText(k.expiresAt)}
            </TD>
            <TD className="text-muted-foreground">{formatRelative(k.lastUsedAt)}</TD>
            <TD className="text-right tabular-nums">{formatNumber(k.requestCount)}</TD>
            <TD className="text-right tabular-nums" data-testid="key-credits-cell">
              {k.credits ? (
                formatNumber(k.credits.remaining)
              ) : (
                <span className="text-muted-foreground">—</span>
              )}
            </TD>
            {canManage ? (
              <TD>
                {k.status === "active" ? (
                  <KeyActions slug={slug} apiKey={k} canRotate={!k.rotatedToId} compact />
                ) : null}
              </TD>
            ) : null}
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
