// An open-loop sender: requests go out on a fixed schedule (request i at t0 + i / rate) whether or
// not earlier ones were answered, and each latency is measured from the request's scheduled time,
// not from when it was written. A slow answer therefore costs every request scheduled behind it
// (no coordinated omission, which a closed loop like autocannon's hides: its 50 connections
// simply send less while the server stalls). node:http with one keep-alive agent; when more
// requests are in flight than the agent has sockets, the rest wait in the agent's queue, and that
// wait is in their latency too (maxInFlight tells whether it happened). The sender shares the
// machine with the server: its own event-loop delays show as send lag (also in the latency).
import http from "node:http";
import { performance } from "node:perf_hooks";
import { type CpuPerRequest, perRequest, readCpu } from "./cpu";

export interface OpenLoopOptions {
  url: string;
  body: string;
  headers?: Record<string, string>;
  /** Requests per second, the schedule. */
  rate: number;
  durationS: number;
  warmupS: number;
  /** Sockets of the agent (the most requests on the wire at once). */
  connections: number;
  /** The server's pid: CPU per request over the measured phase. */
  pid?: number;
  /** How long to wait for the last answers after the last scheduled send. */
  drainS?: number;
}

export interface OpenLoopResult {
  rate: number;
  /** Requests scheduled (and sent) in the measured phase. */
  scheduled: number;
  /** Answered in the measured phase (any status). */
  requests: number;
  /** Requests sent in the warm-up and the measured phase together. */
  sent: number;
  /** Answers per second: answered / (last answer - first scheduled send). */
  achievedRate: number;
  /** Milliseconds from each request's scheduled time to its answer's last byte. */
  p50: number;
  p99: number;
  max: number;
  /** Milliseconds from a request's scheduled time to the sender issuing it. */
  sendLagP99: number;
  sendLagMax: number;
  maxInFlight: number;
  errors: number;
  /** Not answered by the end of the drain; counted in the latencies at the time waited. */
  timeouts: number;
  non2xx: number;
  durationS: number;
  cpu?: CpuPerRequest;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Phase {
  scheduled: number;
  answered: number;
  latencies: Float64Array;
  lags: Float64Array;
  elapsedMs: number;
  maxInFlight: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

function phase(o: OpenLoopOptions, agent: http.Agent, seconds: number): Promise<Phase> {
  const n = Math.max(1, Math.round(o.rate * seconds));
  const url = new URL(o.url);
  const body = Buffer.from(o.body);
  const headers = { ...o.headers, "content-length": String(body.length) };
  const latencies = new Float64Array(n).fill(Number.NaN);
  const lags = new Float64Array(n);
  /** Per request: 0 in flight (or not sent yet), 1 answered, 2 failed. */
  const state = new Uint8Array(n);
  const intervalMs = 1000 / o.rate;
  let issued = 0;
  let settled = 0;
  let answered = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let errors = 0;
  let non2xx = 0;
  let lastAnswer = 0;
  const t0 = performance.now() + 10;

  return new Promise((resolve) => {
    let drainTimer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      if (drainTimer) clearTimeout(drainTimer);
      const now = performance.now();
      let timeouts = 0;
      if (timedOut) {
        for (let i = 0; i < n; i++) {
          if (state[i] === 0) {
            latencies[i] = now - (t0 + i * intervalMs);
            timeouts++;
          }
        }
      }
      resolve({
        scheduled: n,
        answered,
        latencies,
        lags,
        elapsedMs: (timedOut ? now : lastAnswer) - t0,
        maxInFlight,
        errors,
        timeouts,
        non2xx,
      });
    };
    const settle = () => {
      inFlight--;
      settled++;
      if (settled === n) finish(false);
    };
    const send = (i: number) => {
      const scheduledAt = t0 + i * intervalMs;
      lags[i] = performance.now() - scheduledAt;
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers,
        },
        (res) => {
          if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode > 299) {
            non2xx++;
          }
          res.resume();
          res.on("end", () => {
            if (done) return;
            state[i] = 1;
            lastAnswer = performance.now();
            latencies[i] = lastAnswer - scheduledAt;
            answered++;
            settle();
          });
        },
      );
      req.on("error", () => {
        // An error is not an answer: it gets no latency (unless the drain runs out first).
        if (done) return;
        state[i] = 2;
        errors++;
        settle();
      });
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      const due = Math.min(n, Math.floor((now - t0) / intervalMs) + 1);
      while (issued < due) send(issued++);
      if (issued < n) {
        setTimeout(tick, Math.max(0, t0 + issued * intervalMs - performance.now()));
      } else {
        drainTimer = setTimeout(() => finish(true), (o.drainS ?? 30) * 1000);
      }
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  try {
    const warm = o.warmupS > 0 ? await phase(o, agent, o.warmupS) : undefined;
    const before = o.pid ? readCpu(o.pid) : undefined;
    const p = await phase(o, agent, o.durationS);
    const cpu = before && o.pid ? perRequest(before, readCpu(o.pid), p.answered) : undefined;
    const lat = p.latencies.filter((x) => !Number.isNaN(x)).sort();
    const lags = p.lags.slice().sort();
    return {
      rate: o.rate,
      scheduled: p.scheduled,
      requests: p.answered,
      sent: (warm?.scheduled ?? 0) + p.scheduled,
      achievedRate: p.elapsedMs > 0 ? p.answered / (p.elapsedMs / 1000) : 0,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      max: lat.length ? lat[lat.length - 1]! : Number.NaN,
      sendLagP99: percentile(lags, 0.99),
      sendLagMax: lags.length ? lags[lags.length - 1]! : Number.NaN,
      maxInFlight: p.maxInFlight,
      errors: p.errors,
      timeouts: p.timeouts,
      non2xx: p.non2xx,
      durationS: p.elapsedMs / 1000,
      cpu,
    };
  } finally {
    agent.destroy();
  }
}
