// CPU time of a server process from /proc, in clock ticks (utime + stime): its main thread's
// (/proc/<pid>/task/<pid>/stat: node's JavaScript thread, the one that serves HTTP) and the
// whole process's (/proc/<pid>/stat: every thread, live and exited, so libuv's pool, V8's GC
// and compiler threads, worker threads and PGlite's wasm when it runs in the process).
import { execSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Clock ticks per second of /proc's utime/stime (`getconf CLK_TCK`, usually 100). */
export const CLK_TCK = (() => {
  try {
    const n = Number(execSync("getconf CLK_TCK", { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** [utime, stime] of one /proc stat file, in ticks; the name field may hold spaces or parens. */
function ticks(file: string): [number, number] {
  const text = readFileSync(file, "utf8");
  // Fields after the last ")": state is field 3, utime field 14, stime field 15.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return [Number(f[11]), Number(f[12])];
}

export interface CpuSample {
  thread: number;
  /** The main thread's stime alone: the kernel's share (syscalls such as writev). */
  threadSys: number;
  process: number;
}

export function readCpu(pid: number): CpuSample {
  const [user, sys] = ticks(`/proc/${pid}/task/${pid}/stat`);
  const [pUser, pSys] = ticks(`/proc/${pid}/stat`);
  return { thread: user + sys, threadSys: sys, process: pUser + pSys };
}

export interface CpuPerRequest {
  /** The main (request) thread's CPU over the window, microseconds per completed request. */
  threadUs: number;
  /** The part of threadUs spent in the kernel (stime). */
  threadSysUs: number;
  /** The whole process's, all threads. */
  processUs: number;
  /** Seconds of CPU over the window, for the record. */
  threadS: number;
  processS: number;
}

/** CPU between two samples divided by the requests completed between them. */
export function perRequest(a: CpuSample, b: CpuSample, requests: number): CpuPerRequest {
  const threadS = (b.thread - a.thread) / CLK_TCK;
  const processS = (b.process - a.process) / CLK_TCK;
  const n = Math.max(1, requests);
  const threadSysS = (b.threadSys - a.threadSys) / CLK_TCK;
  return {
    threadUs: (threadS / n) * 1e6,
    threadSysUs: (threadSysS / n) * 1e6,
    processUs: (processS / n) * 1e6,
    threadS,
    processS,
  };
}

/**
 * True when `pid` itself holds the socket listening on `port` (/proc/net/tcp{,6} for the socket's
 * inode, /proc/<pid>/fd for the process's): the process whose CPU is read is the one serving
 * HTTP, not a wrapper (npm, a shell) around it.
 */
export function listensOn(pid: number, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT", st 0A is LISTEN, the inode is field 10.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === "0A" && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return false;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return true;
      } catch {
        // The fd closed while we looked.
      }
    }
  } catch {
    return false;
  }
  return false;
}
