// One load phase: a warm-up, then the measured run, both with autocannon in this process.
// Client and server share the machine's cores, so the client's own CPU is part of every number.
import autocannon from "autocannon";
import { type CpuPerRequest, perRequest, readCpu } from "./cpu";

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
  warmupS: number;
  /** The server's pid: its CPU is read from /proc at the measured run's start and end. */
  pid?: number;
}

export interface LoadResult {
  /** Responses received in the measured run. */
  requests: number;
  /** Requests sent, warm-up and measured run together (answered plus in flight at each stop). */
  sent: number;
  rps: number;
  /** Milliseconds, autocannon's 1 ms resolution; latencies of 2xx answers only. */
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  durationS: number;
  /** CPU per completed request over the measured run (after the warm-up), when pid was given. */
  cpu?: CpuPerRequest;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const base = {
    url: o.url,
    method: o.method ?? "POST",
    body: o.body,
    headers: o.headers,
    connections: o.connections,
  };
  const warm = o.warmupS > 0 ? await autocannon({ ...base, duration: o.warmupS }) : null;
  const before = o.pid ? readCpu(o.pid) : undefined;
  const r = await autocannon({ ...base, duration: o.durationS });
  const cpu = before && o.pid ? perRequest(before, readCpu(o.pid), r.requests.total) : undefined;
  return {
    requests: r.requests.total,
    sent: (warm?.requests.sent ?? 0) + r.requests.sent,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    durationS: r.duration,
    cpu,
  };
}
