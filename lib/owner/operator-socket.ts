// The embedded database's owner takes operator commands on a Unix socket in the
// data folder (mode 0600: only whoever can read the folder can use it). The CLI
// sends its argv; the owner runs the same command function in-process, over its
// own database connection, and answers with the output and exit code. No other
// process ever opens the folder or speaks the PostgreSQL protocol to it.
import { existsSync, unlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { CommandResult } from "@/lib/cli/types";

export const SOCKET_FILE = "keyward.sock";
const MAX_REQUEST_BYTES = 64 * 1024;

export function socketPath(dataDir: string): string {
  return path.join(dataDir, SOCKET_FILE);
}

export interface OperatorSocket {
  path: string;
  close(): Promise<void>;
}

export async function startOperatorSocket(dataDir: string): Promise<OperatorSocket> {
  const file = socketPath(dataDir);
  // We hold the folder's lock, so a socket file here is a dead owner's leftover.
  if (existsSync(file)) unlinkSync(file);
  const { executeCommand } = await import("@/lib/cli/commands");
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;

  const server = net.createServer((conn) => {
    let buf = "";
    conn.setEncoding("utf8");
    conn.on("error", () => {});
    conn.on("data", (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) {
        conn.end(`${JSON.stringify({ code: 2, stdout: "", stderr: "request too large\n" })}\n`);
        return;
      }
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = "";
      conn.pause();
      const reply = (r: CommandResult) => conn.end(`${JSON.stringify(r)}\n`);
      if (closing) {
        reply({ code: 1, stdout: "", stderr: "keyward: the app is shutting down; try again\n" });
        return;
      }
      let argv: unknown;
      try {
        argv = JSON.parse(line).argv;
      } catch {
        reply({ code: 2, stdout: "", stderr: "keyward: malformed operator request\n" });
        return;
      }
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) {
        reply({ code: 2, stdout: "", stderr: "keyward: malformed operator request\n" });
        return;
      }
      const job = executeCommand(argv as string[], { via: "socket" }).then(reply, (e) =>
        reply({ code: 1, stdout: "", stderr: `keyward: ${(e as Error).message}\n` }),
      );
      inFlight.add(job);
      job.finally(() => inFlight.delete(job));
    });
  });

  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(file, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }

  return {
    path: file,
    async close() {
      closing = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
      try {
        unlinkSync(file);
      } catch {}
    },
  };
}

/** Send argv to the owner; resolves with its answer, or rejects if nobody answers. */
export function sendToOwner(
  dataDir: string,
  argv: string[],
  timeoutMs = 120_000,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socketPath(dataDir));
    let buf = "";
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error("the app did not answer on its operator socket in time"));
    }, timeoutMs);
    conn.setEncoding("utf8");
    conn.on("connect", () => conn.write(`${JSON.stringify({ argv })}\n`));
    conn.on("data", (c: string) => {
      buf += c;
    });
    conn.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    conn.on("end", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf.trim()) as CommandResult);
      } catch {
        reject(new Error("the app closed its operator socket without an answer"));
      }
    });
  });
}
