import { describe, expect, it } from "vitest";
import { PASSWORD_WORK, PasswordWorkBusy, verifyPassword } from "./password";
import { createWorkQueue, WorkQueueFull } from "./work-queue";

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe("bounded work queue", () => {
  it("runs at most `concurrency` jobs, queues up to `maxQueued`, refuses the rest at once", async () => {
    const q = createWorkQueue({ name: "test", concurrency: 2, maxQueued: 3 });
    const gate = deferred();
    let peak = 0;
    let now = 0;
    const job = async () => {
      now++;
      peak = Math.max(peak, now);
      await gate.promise;
      now--;
      return "done";
    };
    const runs = Array.from({ length: 8 }, () => q.run(job).catch((e) => e));
    await new Promise((r) => setTimeout(r, 10));
    expect(q.running).toBe(2);
    expect(q.queued).toBe(3);
    gate.resolve();
    const results = await Promise.all(runs);
    expect(results.filter((r) => r === "done")).toHaveLength(5);
    expect(results.filter((r) => r instanceof WorkQueueFull)).toHaveLength(3);
    expect(peak).toBe(2);
    expect(q.running).toBe(0);
    expect(q.queued).toBe(0);
  });

  it("frees the slot when a job throws", async () => {
    const q = createWorkQueue({ name: "test", concurrency: 1, maxQueued: 0 });
    await expect(q.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(q.run(async () => 1)).resolves.toBe(1);
  });
});

describe("password checks share one bounded queue", () => {
  it("a flood of real argon2 verifies gets PasswordWorkBusy beyond the queue, never a pile", async () => {
    const flood = PASSWORD_WORK.concurrency + PASSWORD_WORK.maxQueued + 10;
    const results = await Promise.all(
      Array.from({ length: flood }, () => verifyPassword(null, "not the password").catch((e) => e)),
    );
    expect(results.filter((r) => r === false)).toHaveLength(
      PASSWORD_WORK.concurrency + PASSWORD_WORK.maxQueued,
    );
    expect(results.filter((r) => r instanceof PasswordWorkBusy)).toHaveLength(10);
  });
});
