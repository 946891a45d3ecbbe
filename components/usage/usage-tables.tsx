import Link from "next/link";
import {
  formatMs,
  formatNumber,
  formatPercent,
  formatUsd,
  maskedKey,
} from "@/components/keys/format";
import { EnvironmentBadge } from "@/components/keys/key-badges";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";

interface EndpointRow {
  endpoint: string;
  method: string;
  requests: number;
  errors: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  tokens: number;
  costUsd: string;
}

export function EndpointTable({ rows }: { rows: EndpointRow[] }) {
  return (
    <Table data-testid="endpoint-table">
      <THead>
        <tr>
          <TH>Endpoint</TH>
          <TH className="text-right">Requests</TH>
          <TH className="text-right">Errors</TH>
          <TH className="text-right">p50</TH>
          <TH className="text-right">p95</TH>
          <TH className="text-right">Tokens</TH>
          <TH className="text-right">Cost</TH>
        </tr>
      </THead>
      <TBody>
        {rows.map((r) => (
          <TR key={`${r.method} ${r.endpoint}`}>
            <TD className="max-w-[18rem] truncate font-mono text-xs">
              <span className="mr-2 font-semibold">{r.method}</span>
              {r.endpoint}
            </TD>
            <TD className="text-right tabular-nums">{formatNumber(r.requests)}</TD>
            <TD className="text-right tabular-nums">
              {formatNumber(r.errors)}{" "}
              <span className="text-xs text-muted-foreground">
                ({formatPercent(r.requests ? r.errors / r.requests : 0)})
              </span>
            </TD>
            <TD className="text-right tabular-nums">{formatMs(r.p50LatencyMs)}</TD>
            <TD className="text-right tabular-nums">{formatMs(r.p95LatencyMs)}</TD>
            <TD className="text-right tabular-nums">{formatNumber(r.tokens)}</TD>
            <TD className="text-right tabular-nums">{formatUsd(r.costUsd)}</TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}

interface TopKeyRow {
  apiKeyId: string;
  name: string;
  prefix: string;
  hint: string;
  environment: string;
  requests: number;
  errors: number;
  tokens: number;
  costUsd: string;
  avgLatencyMs: number | null;
}

export function TopKeysTable({ slug, rows }: { slug: string; rows: TopKeyRow[] }) {
  return (
    <Table data-testid="top-keys-table">
      <THead>
        <tr>
          <TH>Key</TH>
          <TH>Env</TH>
          <TH className="text-right">Requests</TH>
          <TH className="text-right">Errors</TH>
          <TH className="text-right">Avg latency</TH>
          <TH className="text-right">Tokens</TH>
          <TH className="text-right">Cost</TH>
        </tr>
      </THead>
      <TBody>
        {rows.map((r) => (
          <TR key={r.apiKeyId}>
            <TD className="max-w-[16rem]">
              <Link
                href={`/${slug}/keys/${r.apiKeyId}`}
                className="block truncate font-medium hover:underline"
              >
                {r.name}
              </Link>
              <code className="font-mono text-xs text-muted-foreground">
                {maskedKey(r.prefix, r.hint)}
              </code>
            </TD>
            <TD>
              <EnvironmentBadge environment={r.environment} />
            </TD>
            <TD className="text-right tabular-nums">{formatNumber(r.requests)}</TD>
            <TD className="text-right tabular-nums">{formatNumber(r.errors)}</TD>
            <TD className="text-right tabular-nums">{formatMs(r.avgLatencyMs)}</TD>
            <TD className="text-right tabular-nums">{formatNumber(r.tokens)}</TD>
            <TD className="text-right tabular-nums">{formatUsd(r.costUsd)}</TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
