// A small bounded queue for expensive work (argon2): at most `concurrency` jobs run at once and
// at most `maxQueued` wait; past that the caller is refused at once (WorkQueueFull) instead of
// piling up, so a flood of sign-ups or sign-ins cannot starve everyone else of the CPU.

export class WorkQueueFull extends Error {
  constructor(what: string) {
    super(`${what}: too much work queued, try again shortly`);
    this.name = "WorkQueueFull";
  }
}

export interface WorkQueue {
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Jobs running now and jobs waiting (for tests and metrics). */
  readonly running: number;
  readonly queued: number;
}

export function createWorkQueue(options: {
  name: string;
  concurrency: number;
  maxQueued: number;
}): WorkQueue {
  const { name, concurrency, maxQueued } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("concurrency >= 1");
  if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new RangeError("maxQueued >= 0");
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
    async run<T>(job: () => Promise<T>): Promise<T> {
      if (running < concurrency) running++;
      else if (waiting.length < maxQueued) await new Promise<void>((r) => waiting.push(r));
      else throw new WorkQueueFull(name);
      try {
        return await job();
      } finally {
        // Hand the slot straight to the next waiter, or free it.
        const next = waiting.shift();
        if (next) next();
        else running--;
      }
    },
  };
}
