// The usage report (GET /api/v1/usage): a time series and its totals over a range, from the
// rollups, for the organization, one of its keys or one endpoint.
import type { Db } from "@/lib/db";
import { notFound, validationFailed } from "@/lib/errors";
import { toDbEnvironment } from "@/lib/keys";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { isUuid, toDate, type Visibility, visible } from "./keys/shared";

export interface UsageReportInput {
  from?: Date | string;
  to?: Date | string;
  granularity?: "hour" | "day";
  keyId?: string;
  endpoint?: string;
}

const MAX_BUCKETS = { hour: 24 * 31, day: 366 } as const;

export async function getUsageReport(
  db: Db,
  organizationId: string,
  input: UsageReportInput,
  visibility: Visibility = {},
) {
  const granularity = input.granularity ?? "day";
  const to = toDate(input.to, "to") ?? new Date();
  const from = toDate(input.from, "from") ?? new Date(to.getTime() - 30 * 86_400_000);
  if (from.getTime() >= to.getTime()) {
    throw validationFailed([{ path: "from", message: "`from` must be before `to`." }]);
  }
  const unitMs = granularity === "hour" ? 3_600_000 : 86_400_000;
  if ((to.getTime() - from.getTime()) / unitMs > MAX_BUCKETS[granularity]) {
    throw validationFailed([
      {
        path: "from",
        message: `At most ${MAX_BUCKETS[granularity]} ${granularity}s per report; narrow the range or use a coarser granularity.`,
      },
    ]);
  }
  const empty = { from: from.toISOString(), to: to.toISOString(), granularity };
  // A key that is not the organization's (or not visible) reports nothing, like a missing one.
  if (input.keyId !== undefined) {
    const key = isUuid(input.keyId)
      ? visible(await apiKeyRepository.getById(db, organizationId, input.keyId), visibility)
      : null;
    if (!key) throw notFound("key");
  }
  const filters = {
    keyId: input.keyId,
    endpoint: input.endpoint,
    environment: visibility.environment ? toDbEnvironment(visibility.environment) : undefined,
  };
  const [series, t] = await Promise.all([
    usageRepository.getTimeSeries(db, organizationId, { from, to, granularity, ...filters }),
    // Totals over the whole range from the rollups themselves (exact sums, one merged latency
    // histogram), not re-added from the series' rounded per-bucket figures.
    usageRepository.getRangeStats(db, organizationId, from, to, filters),
  ]);
  return {
    ...empty,
    totals: {
      requests: t.requests,
      errors: t.errors,
      tokens: t.tokens,
      costUsd: t.costUsd,
      avgResponseTimeMs: t.avgLatencyMs === null ? 0 : Math.round(t.avgLatencyMs * 100) / 100,
      p50ResponseTimeMs: t.p50LatencyMs,
      p95ResponseTimeMs: t.p95LatencyMs,
    },
    series,
  };
}
