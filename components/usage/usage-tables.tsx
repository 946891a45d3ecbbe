import Link from "next/link";
import type { ReactNode } from "react";
import type { EndpointStat, TopConsumer } from "@/app/(dashboard)/_lib/data";
import {
  formatMs,
  formatNumber,
  formatPercent,
  formatUsd,
  maskedKey,
} from "@/components/keys/format";
import { EnvironmentBadge } from "@/components/keys/key-badges";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";

type EndpointRow = Pick<
  EndpointStat,
  | "endpoint"
  | "method"
  | "requests"
  | "errors"
  | "p50LatencyMs"
  | "p95LatencyMs"
  | "tokens"
  | "costUsd"
>;

/** A right-aligned number cell and its header. */
function Num({ children }: { children: ReactNode }) {
  return <TD className="text-right tabular-nums">{children}</TD>;
}
function NumHead({ children }: { children: ReactNode }) {
  return <TH className="text-right">{children}</TH>;
}

export function EndpointTable({ rows }: { rows: EndpointRow[] }) {
  return (
    <Table data-testid="endpoint-table">
      <THead>
        <tr>
          <TH>Endpoint</TH>
          <NumHead>Requests</NumHead>
          <NumHead>Errors</NumHead>
          <NumHead>p50</NumHead>
          <NumHead>p95</NumHead>
          <NumHead>Tokens</NumHead>
          <NumHead>Cost</NumHead>
        </tr>
      </THead>
      <TBody>
        {rows.map((r) => (
          <TR key={`${r.method} ${r.endpoint}`}>
            <TD className="max-w-[18rem] truncate font-mono text-xs">
              <span className="mr-2 font-semibold">{r.method}</span>
              {r.endpoint}
            </TD>
            <Num>{formatNumber(r.requests)}</Num>
            <Num>
              {formatNumber(r.errors)}{" "}
              <span className="text-xs text-muted-foreground">
                ({formatPercent(r.requests ? r.errors / r.requests : 0)})
              </span>
            </Num>
            <Num>{formatMs(r.p50LatencyMs)}</Num>
            <Num>{formatMs(r.p95LatencyMs)}</Num>
            <Num>{formatNumber(r.tokens)}</Num>
            <Num>{formatUsd(r.costUsd)}</Num>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}

type TopKeyRow = Pick<
  TopConsumer,
  | "apiKeyId"
  | "name"
  | "prefix"
  | "hint"
  | "environment"
  | "requests"
  | "errors"
  | "tokens"
  | "costUsd"
  | "avgLatencyMs"
>;

export function TopKeysTable({ slug, rows }: { slug: string; rows: TopKeyRow[] }) {
  return (
    <Table data-testid="top-keys-table">
      <THead>
        <tr>
          <TH>Key</TH>
          <TH>Env</TH>
          <NumHead>Requests</NumHead>
          <NumHead>Errors</NumHead>
          <NumHead>Avg latency</NumHead>
          <NumHead>Tokens</NumHead>
          <NumHead>Cost</NumHead>
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
            <Num>{formatNumber(r.requests)}</Num>
            <Num>{formatNumber(r.errors)}</Num>
            <Num>{formatMs(r.avgLatencyMs)}</Num>
            <Num>{formatNumber(r.tokens)}</Num>
            <Num>{formatUsd(r.costUsd)}</Num>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
