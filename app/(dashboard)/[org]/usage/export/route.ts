// CSV export of what the usage page shows for a range: the daily series, then per endpoint and
// per key. Session- and membership-checked like the page; a non-member gets 404.
import { authorizeMember } from "@/app/(dashboard)/_lib/access";
import { getUsageOverview } from "@/app/(dashboard)/_lib/data";
import { parseDateRange } from "@/lib/url-state/date-range";

export const dynamic = "force-dynamic";

/** Quotes a cell, and defuses spreadsheet formulas (=, +, -, @ at the start). */
function cell(value: unknown): string {
  let s = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) || s.startsWith("'") ? `"${s.replace(/"/g, '""')}"` : s;
}
const row = (values: unknown[]) => values.map(cell).join(",");

export async function GET(request: Request, { params }: { params: Promise<{ org: string }> }) {
  const { org } = await params;
  const access = await authorizeMember(org, "VIEWER");
  if (!access.ok) {
    const status = access.message.startsWith("Your session") ? 401 : 404;
    return new Response(status === 401 ? "Sign in first.\n" : "Not found.\n", {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  }
  const url = new URL(request.url);
  const range = parseDateRange({
    range: url.searchParams.get("range") ?? undefined,
    from: url.searchParams.get("from") ?? undefined,
    to: url.searchParams.get("to") ?? undefined,
  });
  const { organization } = access.ctx;
  const usage = await getUsageOverview(organization.id, range);
  const lines: string[] = [];
  lines.push(
    row([
      "date",
      "requests",
      "status_2xx",
      "status_3xx",
      "status_4xx",
      "status_5xx",
      "errors",
      "p50_latency_ms",
      "p95_latency_ms",
      "tokens",
      "cost_usd",
    ]),
  );
  for (const d of usage.daily) {
    lines.push(
      row([
        d.date,
        d.requests,
        d.status2xx,
        d.status3xx,
        d.status4xx,
        d.status5xx,
        d.errors,
        d.p50LatencyMs === null ? "" : Math.round(d.p50LatencyMs * 100) / 100,
        d.p95LatencyMs === null ? "" : Math.round(d.p95LatencyMs * 100) / 100,
        d.tokens,
        d.costUsd,
      ]),
    );
  }
  lines.push("");
  lines.push(
    row([
      "endpoint",
      "method",
      "requests",
      "errors",
      "p50_latency_ms",
      "p95_latency_ms",
      "tokens",
      "cost_usd",
    ]),
  );
  for (const e of usage.endpoints) {
    lines.push(
      row([
        e.endpoint,
        e.method,
        e.requests,
        e.errors,
        e.p50LatencyMs ?? "",
        e.p95LatencyMs ?? "",
        e.tokens,
        e.costUsd,
      ]),
    );
  }
  lines.push("");
  lines.push(
    row(["key_id", "key_name", "key", "environment", "requests", "errors", "tokens", "cost_usd"]),
  );
  for (const k of usage.topKeys) {
    lines.push(
      row([
        k.apiKeyId,
        k.name,
        `${k.prefix}…${k.hint}`,
        k.environment.toLowerCase(),
        k.requests,
        k.errors,
        k.tokens,
        k.costUsd,
      ]),
    );
  }
  const filename = `keyward-usage-${organization.slug}-${range.from}-to-${range.to}.csv`;
  return new Response(`${lines.join("\r\n")}\r\n`, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
    },
  });
}
