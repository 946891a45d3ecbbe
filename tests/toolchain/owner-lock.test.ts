// The owner lock: exclusive, names its pid, taken over when that pid is gone.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  acquireOwnerLock,
  DatabaseOwnedError,
  isProcessAlive,
  LOCK_FILE,
} from "@/lib/db/owner-lock";

const dir = () => mkdtempSync(path.join(os.tmpdir(), "kw-lock-"));

describe("owner lock", () => {
  it("is exclusive and holds the owner's pid", () => {
    const d = dir();
    const lock = acquireOwnerLock(d);
    expect(readFileSync(path.join(d, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    expect(() => acquireOwnerLock(d)).toThrow();
    lock.release();
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(false);
  });

  it("refuses while another live process owns it, naming the pid", async () => {
    const d = dir();
    const child = spawn("sleep", ["30"]);
    try {
      writeFileSync(path.join(d, LOCK_FILE), `${child.pid}\n`);
      let err: unknown;
      try {
        acquireOwnerLock(d);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DatabaseOwnedError);
      expect((err as Error).message).toContain(`pid ${child.pid}`);
      expect((err as Error).message).toContain("DATABASE_URL");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("takes over a lock whose process is gone, zombies included", async () => {
    const d = dir();
    // `sleep 0` exits under a parent (exec'd `sleep 5`) that never reaps it: a
    // zombie, which kill -0 still reports alive.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 5"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.once("data", (d) => resolve(Number.parseInt(String(d), 10))),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(`/proc/${pid}/stat`, "utf8")).toMatch(/\) Z /);
    expect(() => process.kill(pid, 0)).not.toThrow();
    writeFileSync(path.join(d, LOCK_FILE), `${pid}\n`);
    expect(isProcessAlive(pid)).toBe(false);
    const lock = acquireOwnerLock(d);
    expect(readFileSync(path.join(d, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    lock.release();

    parent.kill("SIGKILL");

    writeFileSync(path.join(d, LOCK_FILE), "999999999\n");
    acquireOwnerLock(d).release();
  });
});
