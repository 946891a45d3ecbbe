// What /metrics reads from the services at scrape time: the usage recorder's queue and drops,
// and the dependencies' health (cached for a second by dependency-health.ts, so scrapes never
// pile probes on a database in trouble).
import type { Db } from "@/lib/db";
import { checkDependencies } from "@/lib/services/dependency-health";
import { getUsageRecorder } from "@/lib/services/usage-recorder";
import { metrics } from "./registry";

/** Brings the scrape-time series up to date. */
export async function collectServiceMetrics(db: Db | null): Promise<void> {
  const m = metrics();
  const { pending, written, droppedByReason } = getUsageRecorder().stats();
  m.usagePending.set(pending);
  // The recorder keeps the totals; the counters mirror them (a new recorder after a restart of
  // the process starts from 0, which Prometheus reads as a counter reset).
  m.usageWritten.reset();
  m.usageWritten.inc(written);
  m.usageDropped.reset();
  for (const [reason, n] of Object.entries(droppedByReason)) m.usageDropped.inc({ reason }, n);

  m.dependencyUp.reset();
  if (!db) {
    m.dependencyUp.set({ dependency: "database" }, 0);
    return;
  }
  const health = await checkDependencies(db);
  m.dependencyUp.set({ dependency: "database" }, health.database === "ok" ? 1 : 0);
  if (health.redis !== "not_configured") {
    m.dependencyUp.set({ dependency: "redis" }, health.redis === "ok" ? 1 : 0);
  }
}
