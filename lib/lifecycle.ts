// Shutdown hooks for the process: the usage recorder flushes, the operator
// socket closes, the database closes and releases its lock, in that order
// (lower `order` first). Kept on globalThis: Next bundles modules twice.
type Hook = { name: string; order: number; run: () => Promise<void> | void };
const KEY = Symbol.for("keyward.lifecycle");
type State = { hooks: Hook[]; shuttingDown?: Promise<void> };

function state(): State {
  const g = globalThis as unknown as Record<symbol, State>;
  g[KEY] ??= { hooks: [] };
  return g[KEY];
}

/** Register work to do at shutdown. Orders: 10 stop intake, 50 flush buffers, 90 close database. */
export function onShutdown(name: string, run: Hook["run"], order = 50): void {
  const s = state();
  s.hooks = s.hooks.filter((h) => h.name !== name);
  s.hooks.push({ name, order, run });
}

export function isShuttingDown(): boolean {
  return state().shuttingDown !== undefined;
}

/** Runs every hook once, in order; errors are reported and do not stop the rest. */
export function shutdown(log: (msg: string) => void = console.error): Promise<void> {
  const s = state();
  s.shuttingDown ??= (async () => {
    for (const hook of [...s.hooks].sort((a, b) => a.order - b.order)) {
      try {
        await hook.run();
      } catch (e) {
        log(`shutdown: ${hook.name} failed: ${(e as Error).message}`);
      }
    }
  })();
  return s.shuttingDown;
}
