// Samples a process's resident set size (VmRSS in /proc/<pid>/status) at a fixed period.
import { readFileSync } from "node:fs";

export function readRssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface RssSummary {
  samples: number;
  startMb: number;
  minMb: number;
  maxMb: number;
  endMb: number;
  /** Least-squares slope over all samples, MB per minute. */
  slopeMbPerMin: number;
  /** The same over the second half of the run (after the heap has settled). */
  lateSlopeMbPerMin: number;
  /**
   * The lowest RSS in each quarter of the run. Under load V8 lets old space grow until a full
   * collection, so RSS saws up and down; a leak shows as floors that keep rising.
   */
  quarterFloorsMb: number[];
  series: Array<{ t: number; mb: number }>;
}

function slope(points: Array<{ t: number; mb: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mm = points.reduce((s, p) => s + p.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.mb - mm);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

/** Starts sampling now; `stop()` returns the summary. */
export function sampleRss(pid: number, periodMs = 1000): { stop(): RssSummary } {
  const started = Date.now();
  const series: Array<{ t: number; mb: number }> = [];
  const take = () => {
    const kb = readRssKb(pid);
    if (kb !== null) series.push({ t: (Date.now() - started) / 1000, mb: kb / 1024 });
  };
  take();
  const timer = setInterval(take, periodMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const mbs = series.map((p) => p.mb);
      return {
        samples: series.length,
        startMb: mbs[0] ?? 0,
        minMb: Math.min(...mbs),
        maxMb: Math.max(...mbs),
        endMb: mbs[mbs.length - 1] ?? 0,
        slopeMbPerMin: slope(series),
        lateSlopeMbPerMin: slope(series.slice(Math.floor(series.length / 2))),
        quarterFloorsMb: [0, 1, 2, 3].map((q) => {
          const part = series.slice(
            Math.floor((q * series.length) / 4),
            Math.floor(((q + 1) * series.length) / 4),
          );
          return part.length ? Math.min(...part.map((p) => p.mb)) : Number.NaN;
        }),
        series,
      };
    },
  };
}
