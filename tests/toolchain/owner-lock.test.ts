// The owner lock: liveness is proven by the owner answering on the socket its lock names,
// never by a pid. Stale locks (pid 1, a dead pid, our own pid: no socket answering) are
// taken over; a live owner, even a stopped one, is respected; and 8 real processes racing
// for one folder, 20 times, end with one owner each time and never two at once.
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  acquireOwnerLock,
  DatabaseOwnedError,
  findOwner,
  LOCK_FILE,
  takeoverMarkerFor,
} from "@/lib/db/owner-lock";

const root = path.resolve(import.meta.dirname, "../..");
const dir = () => mkdtempSync(path.join(os.tmpdir(), "kw-lock-"));
const lockOf = (d: string) => JSON.parse(readFileSync(path.join(d, LOCK_FILE), "utf8"));
const deadSocket = (d: string) => path.join(d, "keyward.0123456789abcdef.sock");
const staleLock = (d: string, pid: number) =>
  writeFileSync(
    path.join(d, LOCK_FILE),
    `${JSON.stringify({ pid, socket: deadSocket(d), token: "0123456789abcdef" })}\n`,
  );

async function refusal(d: string): Promise<DatabaseOwnedError> {
  try {
    (await acquireOwnerLock(d)).release();
  } catch (e) {
    if (e instanceof DatabaseOwnedError) return e;
    throw e;
  }
  throw new Error("the lock was taken over from a live owner");
}

type Report = {
  id: string;
  round?: number;
  ready?: boolean;
  won?: boolean;
  owned?: boolean;
  error?: string;
  released?: boolean;
  pid?: number;
};

/** Real starter processes (tests/toolchain/lock-racer.ts), driven over IPC. */
function startRacers(n: number, log: string) {
  const procs: ChildProcess[] = [];
  const waiters: Array<(r: Report) => boolean> = [];
  for (let i = 0; i < n; i++) {
    const p = spawn(
      process.execPath,
      ["--import", "tsx", "tests/toolchain/lock-racer.ts", String(i), log],
      { cwd: root, stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    p.on("message", (r: Report) => {
      const k = waiters.findIndex((w) => w(r));
      if (k >= 0) waiters.splice(k, 1);
    });
    procs.push(p);
  }
  const collect = (count: number, match: (r: Report) => boolean) =>
    new Promise<Report[]>((resolve) => {
      const got: Report[] = [];
      for (let i = 0; i < count; i++) {
        waiters.push((r) => {
          if (!match(r)) return false;
          got.push(r);
          if (got.length === count) resolve(got);
          return true;
        });
      }
    });
  return {
    procs,
    ready: collect(n, (r) => r.ready === true),
    async acquireAll(round: number, d: string) {
      const reports = collect(n, (r) => r.round === round && r.won !== undefined);
      for (const p of procs) p.send({ op: "acquire", round, dir: d });
      return reports;
    },
    async release(round: number, id: string) {
      const done = collect(1, (r) => r.round === round && r.released === true);
      procs[Number(id)].send({ op: "release", round, dir: "" });
      await done;
    },
    kill: () => {
      for (const p of procs) p.kill("SIGKILL");
    },
  };
}

describe("owner lock", () => {
  it("is written whole, names its socket and pid, and is exclusive while the owner answers", async () => {
    const d = dir();
    const lock = await acquireOwnerLock(d);
    const content = lockOf(d);
    expect(content.pid).toBe(process.pid);
    expect(content.socket).toBe(lock.socket);
    expect(path.dirname(content.socket)).toBe(d);
    expect(statSync(content.socket).isSocket()).toBe(true);
    expect(statSync(content.socket).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(d, LOCK_FILE)).mode & 0o777).toBe(0o600);
    expect((await findOwner(d))?.pid).toBe(process.pid);
    // Even this same process cannot open it twice.
    expect((await refusal(d)).message).toContain(`pid ${process.pid}`);
    lock.release();
    expect(readdirSync(d)).toEqual([]);
    expect(await findOwner(d)).toBeNull();
  });

  it("takes over a lock naming pid 1 with no socket (pid reuse, containers)", async () => {
    const d = dir();
    staleLock(d, 1);
    expect(await findOwner(d)).toBeNull();
    const lock = await acquireOwnerLock(d);
    expect(lockOf(d).socket).toBe(lock.socket);
    lock.release();
    // The pid-only lock of an earlier Keyward, naming pid 1 and with no socket.
    writeFileSync(path.join(d, LOCK_FILE), "1\n");
    (await acquireOwnerLock(d)).release();
    expect(readdirSync(d)).toEqual([]);
  });

  it("takes over a lock naming a dead pid, and one naming the starter's own pid, with no socket", async () => {
    const d = dir();
    const child = spawn("true");
    const pid = child.pid as number;
    await new Promise((r) => child.once("exit", r));
    staleLock(d, pid);
    (await acquireOwnerLock(d)).release();
    staleLock(d, process.pid);
    const lock = await acquireOwnerLock(d);
    expect(lockOf(d).token).not.toBe("0123456789abcdef");
    lock.release();
  });

  it("takes over a socket file nobody listens on, and never trusts a socket outside the folder", async () => {
    const d = dir();
    // A crashed owner leaves its socket file behind: connecting is refused.
    const racers = startRacers(1, path.join(d, "log"));
    const folder = mkdtempSync(path.join(d, "f-"));
    try {
      await racers.ready;
      const [won] = await racers.acquireAll(0, folder);
      expect(won.won).toBe(true);
      const dead = lockOf(folder).socket;
      racers.procs[0].kill("SIGKILL");
      await new Promise((r) => racers.procs[0].once("exit", r));
      expect(existsSync(dead)).toBe(true);
      const lock = await acquireOwnerLock(folder);
      expect(existsSync(dead)).toBe(false);
      lock.release();
    } finally {
      racers.kill();
    }
    // A lock naming a path elsewhere proves nothing, and that path is left alone.
    const outside = path.join(d, "not-ours.sock");
    writeFileSync(outside, "x");
    writeFileSync(
      path.join(folder, LOCK_FILE),
      JSON.stringify({ pid: 1, socket: outside, token: "x" }),
    );
    (await acquireOwnerLock(folder)).release();
    expect(existsSync(outside)).toBe(true);
  });

  it("respects a live owner in another process, even one that is stopped and cannot answer", async () => {
    const d = dir();
    const folder = mkdtempSync(path.join(d, "f-"));
    const racers = startRacers(1, path.join(d, "log"));
    try {
      await racers.ready;
      const [won] = await racers.acquireAll(0, folder);
      expect(won.won).toBe(true);
      const e = await refusal(folder);
      expect(e.message).toContain(`owned by pid ${won.pid}`);
      expect(e.message).toContain("DATABASE_URL");
      expect(e.message.split("\n")).toHaveLength(1);
      // Stopped: the kernel still takes the connection, so something is there. Taking the
      // folder over would open it twice once the owner resumes.
      racers.procs[0].kill("SIGSTOP");
      const silent = await refusal(folder);
      expect(silent.message).toContain("did not answer");
      expect(lockOf(folder).pid).toBe(won.pid);
      racers.procs[0].kill("SIGCONT");
      await racers.release(0, "0");
      (await acquireOwnerLock(folder)).release();
    } finally {
      racers.kill();
    }
  });

  it("refuses a folder whose path is too long for its socket, instead of a truncated socket", async () => {
    const d = path.join(dir(), "x".repeat(90));
    await expect(acquireOwnerLock(d)).rejects.toThrow(/too long for its operator socket/);
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(false);
  });

  it("8 processes racing for one folder, 20 times: one owner each time, never two at once", async () => {
    const d = dir();
    const log = path.join(d, "marks.log");
    writeFileSync(log, "");
    const racers = startRacers(8, log);
    try {
      await racers.ready;
      for (let round = 0; round < 20; round++) {
        const folder = mkdtempSync(path.join(d, `r${round}-`));
        // Rounds 1-3 of every 4 race for a stale lock: all 8 find it stale at once.
        if (round % 4 === 1) staleLock(folder, 1);
        if (round % 4 === 2) writeFileSync(path.join(folder, LOCK_FILE), "1\n");
        if (round % 4 === 3) {
          // ... and a takeover marker left by a starter that died mid-takeover.
          staleLock(folder, 999_999_999);
          const marker = takeoverMarkerFor(path.join(folder, LOCK_FILE)) as string;
          writeFileSync(
            marker,
            JSON.stringify({
              pid: 999_999_998,
              socket: path.join(folder, "keyward.fedcba9876543210.sock"),
              token: "fedcba9876543210",
            }),
          );
        }
        const reports = await racers.acquireAll(round, folder);
        const winners = reports.filter((r) => r.won);
        expect(winners, JSON.stringify(reports)).toHaveLength(1);
        for (const r of reports.filter((x) => !x.won)) {
          expect(r.owned, r.error).toBe(true);
          expect(r.error).toContain(`owned by pid ${winners[0].pid}`);
        }
        expect(lockOf(folder).pid).toBe(winners[0].pid);
        await racers.release(round, winners[0].id);
        expect(readdirSync(folder)).toEqual([]);
      }
    } finally {
      racers.kill();
    }
    // Every hold, from every process: start and end marks alternate, never two starts in a row.
    const marks = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const [round, id, kind, t] = l.split(" ");
        return { round: Number(round), id, kind, t: Number(t) };
      });
    // In the file's order: each mark is one O_APPEND write, so the kernel orders them as they
    // happened. (Sorting by each process's own clock, timeOrigin + now(), can misorder marks a
    // fraction of a millisecond apart across processes: seen once in CI on Node 24.)
    expect(marks).toHaveLength(40);
    for (let i = 0; i < marks.length; i += 2) {
      expect(marks[i].kind).toBe("start");
      expect(marks[i + 1].kind).toBe("end");
      expect(marks[i + 1].id).toBe(marks[i].id);
      expect(marks[i + 1].round).toBe(marks[i].round);
    }
  }, 60_000);
});
