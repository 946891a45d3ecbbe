// A starter process for the owner-lock tests: on each message it tries to take the folder,
// reports, and (when it won) holds the lock until told to release it, writing start and end
// marks to a shared log so the test can check that no two ever held it at once.
import { appendFileSync } from "node:fs";
import { acquireOwnerLock, DatabaseOwnedError, type OwnerLock } from "@/lib/db/owner-lock";

const [id, log] = process.argv.slice(2);
const held = new Map<number, OwnerLock>();
const now = () => (performance.timeOrigin + performance.now()).toFixed(3);
const send = (m: object) => process.send?.(m);

process.on("message", async (m: { op: "acquire" | "release"; round: number; dir: string }) => {
  if (m.op === "acquire") {
    try {
      const lock = await acquireOwnerLock(m.dir);
      appendFileSync(log, `${m.round} ${id} start ${now()}\n`);
      held.set(m.round, lock);
      send({ round: m.round, id, won: true, pid: process.pid });
    } catch (e) {
      send({
        round: m.round,
        id,
        won: false,
        owned: e instanceof DatabaseOwnedError,
        error: (e as Error).message,
      });
    }
  } else {
    const lock = held.get(m.round);
    held.delete(m.round);
    appendFileSync(log, `${m.round} ${id} end ${now()}\n`);
    lock?.release();
    send({ round: m.round, id, released: true });
  }
});
send({ id, ready: true });
