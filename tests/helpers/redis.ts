// A redis-server of the test's own on a port of its own, so a test can kill it and bring it back
// (the shared Redis at REDIS_URL must never be stopped).
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "./server";

export const REDIS_SERVER = "/usr/bin/redis-server";

export interface TestRedis {
  port: number;
  url: string;
  /** Starts (or starts again, on the same port). */
  start(): Promise<void>;
  /** SIGKILL: a crash, not a shutdown. */
  kill(): Promise<void>;
}

export async function testRedis(port?: number): Promise<TestRedis> {
  const p = port ?? (await freePort());
  let proc: ChildProcess | undefined;
  const r: TestRedis = {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    async start() {
      const child = spawn(
        REDIS_SERVER,
        ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      proc = child;
      let out = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`redis-server not ready:\n${out}`)),
          10_000,
        );
        child.stdout?.on("data", (d) => {
          out += d;
          if (out.includes("Ready to accept connections")) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited (${code}):\n${out}`));
        });
      });
    },
    async kill() {
      const child = proc;
      proc = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
  return r;
}
