// The embedded database folder has exactly one owner process, and the owner proves it is
// alive by answering on its own Unix socket, never by a pid (a pid is reused after a
// crash, and is 1 in every container). See TOOLCHAIN.md, "PGlite is one process".
//
// - The owner listens on a socket of its own (keyward.<token>.sock, 0600) BEFORE the lock
//   exists, so whoever reads the lock can ask it at once.
// - The lock is written whole to a temporary file and link()ed to keyward.lock: link fails
//   with EEXIST when the name is taken, and nobody ever reads a half-written lock.
// - A lock is stale when its socket refuses the connection or is missing (ECONNREFUSED,
//   ENOENT): nobody listens there, so its owner is gone. A socket that accepts the
//   connection has a live listener (sockets are close-on-exec, so no child inherits one):
//   even when it is silent (stopped, or busy in a long synchronous step) it is respected,
//   since taking it over would open the folder twice.
// - A lock (or any file here) with identity X is removed only by whoever created the
//   marker keyward.lock.takeover-<X> with link(); two starters that both found it stale
//   cannot both remove it, and the owner's own release takes the same marker. A marker
//   left by a starter that died mid-takeover holds that starter's lock content, so it is
//   stale by the same rule and removed the same way.
import { createHash, randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

export const LOCK_FILE = "keyward.lock";
/** The socket name an earlier Keyward (pid-only lock) listened on. */
const LEGACY_SOCKET_FILE = "keyward.sock";
const SOCKET_NAME = /^keyward\.[0-9a-f]{16}\.sock$/;
const MAX_REQUEST_BYTES = 64 * 1024;
/** sun_path is 108 bytes on Linux, with the terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** How long a connected owner has to answer a ping before it counts as silent (still alive). */
const PING_TIMEOUT_MS = 2_000;
/** How long a start keeps retrying while another starter is mid-takeover. */
const ACQUIRE_DEADLINE_MS = 10_000;

export class DatabaseOwnedError extends Error {
  readonly code = "DATABASE_OWNED";
  constructor(
    readonly pid: number,
    readonly dataDir: string,
    detail = "",
  ) {
    super(
      `the embedded database in ${dataDir} is owned by pid ${pid}${detail}; stop it first, or set DATABASE_URL to run several instances on PostgreSQL`,
    );
  }
}

/** What a lock file says: the owner's socket (the proof) and pid (for people). */
export interface LockContent {
  pid: number;
  socket: string;
  token: string;
}

interface LockFile {
  raw: string;
  ino: number;
  content: LockContent | null;
  /** A pid-only lock from an earlier Keyward. */
  legacyPid: number | null;
}

function readLockFile(file: string): LockFile | null {
  try {
    const ino = statSync(file).ino;
    const raw = readFileSync(file, "utf8");
    let content: LockContent | null = null;
    let legacyPid: number | null = null;
    try {
      const v = JSON.parse(raw) as Partial<LockContent>;
      if (
        typeof v.pid === "number" &&
        typeof v.socket === "string" &&
        typeof v.token === "string"
      ) {
        content = { pid: v.pid, socket: v.socket, token: v.token };
      }
    } catch {
      if (/^\d+\s*$/.test(raw)) legacyPid = Number.parseInt(raw, 10);
    }
    return { raw, ino, content, legacyPid };
  } catch {
    return null;
  }
}

/** The socket a lock names, only when it is one of ours inside this folder. */
function ownSocket(dataDir: string, lock: LockFile): string | null {
  if (lock.content) {
    const s = lock.content.socket;
    return path.dirname(s) === dataDir && SOCKET_NAME.test(path.basename(s)) ? s : null;
  }
  if (lock.legacyPid !== null) return path.join(dataDir, LEGACY_SOCKET_FILE);
  return null;
}

export type Liveness = "alive" | "silent" | "gone";

/**
 * Asks the socket at `file` whether anyone owns it. "gone": nobody listens (refused, missing,
 * not a socket). "alive": it answered. "silent": it took the connection but did not answer in
 * time; something is listening, so it still counts as the owner.
 */
export function pingSocket(file: string, timeoutMs = PING_TIMEOUT_MS): Promise<Liveness> {
  return new Promise((resolve) => {
    const conn = net.connect(file);
    let done = false;
    const finish = (v: Liveness) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish("silent"), timeoutMs);
    conn.on("connect", () => conn.write(`${JSON.stringify({ ping: true })}\n`));
    conn.on("data", () => finish("alive"));
    conn.on("end", () => finish("alive"));
    conn.on("error", (e: NodeJS.ErrnoException) => {
      const gone = e.code === "ECONNREFUSED" || e.code === "ENOENT" || e.code === "ENOTSOCK";
      // Anything else (EACCES, EAGAIN on a full backlog, a reset after accepting) means
      // something is there: never take a folder over on a doubt.
      finish(gone ? "gone" : "silent");
    });
  });
}

async function lockLiveness(dataDir: string, lock: LockFile): Promise<Liveness> {
  const socket = ownSocket(dataDir, lock);
  // Unreadable or foreign content cannot prove an owner.
  if (!socket) return "gone";
  return pingSocket(socket);
}

function pidOf(lock: LockFile): number {
  return lock.content?.pid ?? lock.legacyPid ?? -1;
}

/** The live owner of a data folder, or null when nobody owns it (or its lock is stale). */
export async function findOwner(
  folder: string,
): Promise<{ pid: number; socket: string; liveness: Liveness } | null> {
  const dataDir = path.resolve(folder);
  const lock = readLockFile(path.join(dataDir, LOCK_FILE));
  if (!lock) return null;
  const liveness = await lockLiveness(dataDir, lock);
  const socket = ownSocket(dataDir, lock);
  if (liveness === "gone" || !socket) return null;
  return { pid: pidOf(lock), socket, liveness };
}

/** Answers an operator request line: the command handler, once the owner installs one. */
export type RequestHandler = (request: { argv: string[] }) => Promise<unknown>;

export interface OwnerLock {
  readonly file: string;
  readonly socket: string;
  readonly dataDir: string;
  /** Install (or remove, with undefined) what answers operator commands on the socket. */
  setHandler(handler: RequestHandler | undefined): void;
  release(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function markerName(file: string, lock: LockFile): string {
  const id = createHash("sha256")
    .update(`${path.basename(file)}\0${lock.ino}\0${lock.raw}`)
    .digest("hex")
    .slice(0, 24);
  return path.join(path.dirname(file), `${LOCK_FILE}.takeover-${id}`);
}

/** Test hook: where a takeover of `file` (as it is now) takes its marker. */
export function takeoverMarkerFor(file: string): string | null {
  const lock = readLockFile(file);
  return lock ? markerName(file, lock) : null;
}

function unlinkQuiet(file: string) {
  try {
    unlinkSync(file);
  } catch {}
}

type Removal = "removed" | "busy";

/**
 * Removes `file`, which holds `seen` and was found stale, as the one holder of its takeover
 * marker (`mine` is a file with our own lock content, linked to the marker name).
 */
async function removeStale(
  dataDir: string,
  file: string,
  seen: LockFile,
  mine: string,
  depth = 0,
): Promise<Removal> {
  const marker = markerName(file, seen);
  try {
    linkSync(mine, marker);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    // Someone else is removing it. If they died doing so, their marker is stale in turn.
    const other = readLockFile(marker);
    if (!other || depth >= 4) return "busy";
    if ((await lockLiveness(dataDir, other)) !== "gone") return "busy";
    await removeStale(dataDir, marker, other, mine, depth + 1);
    return "busy"; // retry from the top: the lock may have changed meanwhile
  }
  try {
    const now = readLockFile(file);
    // Only a marker holder removes a file, so it is still the one we judged, unless a
    // starter before us removed it and died before removing its marker.
    if (now && now.ino === seen.ino && now.raw === seen.raw) {
      unlinkSync(file);
      const socket = ownSocket(dataDir, seen);
      if (socket && seen.content) unlinkQuiet(socket); // the dead owner's socket file
    }
    return "removed";
  } finally {
    unlinkQuiet(marker);
  }
}

interface SocketServer {
  close(): void;
  setHandler(handler: RequestHandler | undefined): void;
}

async function listenOwnerSocket(
  file: string,
  identity: { pid: number; token: string },
): Promise<SocketServer> {
  let handler: RequestHandler | undefined;
  const server = net.createServer((conn) => {
    let buf = "";
    conn.setEncoding("utf8");
    conn.on("error", () => {});
    conn.on("data", (chunk: string) => {
      buf += chunk;
      const reply = (v: unknown) => conn.end(`${JSON.stringify(v)}\n`);
      if (buf.length > MAX_REQUEST_BYTES) {
        buf = "";
        reply({ code: 2, stdout: "", stderr: "keyward: operator request too large\n" });
        return;
      }
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = "";
      conn.pause();
      let request: { ping?: unknown; argv?: unknown };
      try {
        request = JSON.parse(line);
      } catch {
        reply({ code: 2, stdout: "", stderr: "keyward: malformed operator request\n" });
        return;
      }
      if (request?.ping === true) {
        reply({ pong: true, pid: identity.pid, token: identity.token });
        return;
      }
      const argv = request?.argv;
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) {
        reply({ code: 2, stdout: "", stderr: "keyward: malformed operator request\n" });
        return;
      }
      if (!handler) {
        reply({ busy: true, pid: identity.pid });
        return;
      }
      handler({ argv: argv as string[] }).then(reply, (e) =>
        reply({ code: 1, stdout: "", stderr: `keyward: ${(e as Error).message}\n` }),
      );
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
  if (!statSync(file).isSocket()) {
    server.close();
    throw new Error(`the operator socket ${file} did not appear`);
  }
  server.unref(); // the socket alone never keeps a process alive
  return {
    close() {
      server.close();
      unlinkQuiet(file);
    },
    setHandler(h) {
      handler = h;
    },
  };
}

/**
 * Takes the folder for this process, or throws DatabaseOwnedError when a live owner holds it.
 * A stale lock (its socket gone: the owner died, whatever its pid says now) is taken over.
 */
export async function acquireOwnerLock(folder: string): Promise<OwnerLock> {
  const dataDir = path.resolve(folder);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, LOCK_FILE);
  const token = randomBytes(8).toString("hex");
  const socket = path.join(dataDir, `keyward.${token}.sock`);
  // Node silently truncates a Unix socket path past the kernel's limit; the lock would then
  // name a path nobody listens on, and the next start would take a live owner's folder.
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new Error(
      `the data folder's path is too long for its operator socket (${socket}); use a KEYWARD_DATA_DIR of at most ${MAX_SOCKET_PATH - 30} bytes`,
    );
  }
  const server = await listenOwnerSocket(socket, { pid: process.pid, token });
  const content: LockContent = { pid: process.pid, socket, token };
  const mine = path.join(dataDir, `${LOCK_FILE}.${token}.tmp`);
  try {
    writeFileSync(mine, `${JSON.stringify(content)}\n`, { flag: "wx", mode: 0o600 });
    const deadline = Date.now() + ACQUIRE_DEADLINE_MS;
    for (;;) {
      try {
        linkSync(mine, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const seen = readLockFile(file);
      if (!seen) continue; // released between our link and our read
      const liveness = await lockLiveness(dataDir, seen);
      if (liveness !== "gone") {
        throw new DatabaseOwnedError(
          pidOf(seen),
          dataDir,
          liveness === "silent" ? " (it took the connection but did not answer)" : "",
        );
      }
      if ((await removeStale(dataDir, file, seen, mine)) === "busy") {
        if (Date.now() > deadline) throw new DatabaseOwnedError(pidOf(seen), dataDir);
        await sleep(10 + Math.random() * 20);
      }
    }
  } catch (e) {
    server.close();
    throw e;
  } finally {
    unlinkQuiet(mine);
  }

  let released = false;
  return {
    file,
    socket,
    dataDir,
    setHandler: (h) => server.setHandler(h),
    release() {
      if (released) return;
      released = true;
      server.setHandler(undefined);
      // Our own release takes the same marker a takeover would: if someone judged us dead
      // and holds it, the lock is theirs to remove.
      const now = readLockFile(file);
      if (now?.content?.token === token) {
        const marker = markerName(file, now);
        const tmp = path.join(dataDir, `${LOCK_FILE}.${token}.release.tmp`);
        try {
          writeFileSync(tmp, `${JSON.stringify(content)}\n`, { flag: "wx", mode: 0o600 });
          linkSync(tmp, marker);
          try {
            const again = readLockFile(file);
            if (again && again.ino === now.ino && again.raw === now.raw) unlinkSync(file);
          } finally {
            unlinkQuiet(marker);
          }
        } catch {
        } finally {
          unlinkQuiet(tmp);
        }
      }
      server.close();
    },
  };
}

/** Sends one request line to an owner's socket; resolves with its answer. */
export function requestOwner<T>(socket: string, request: object, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let buf = "";
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error("the owner did not answer on its operator socket in time"));
    }, timeoutMs);
    conn.setEncoding("utf8");
    conn.on("connect", () => conn.write(`${JSON.stringify(request)}\n`));
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
        resolve(JSON.parse(buf.trim()) as T);
      } catch {
        reject(new Error("the owner closed its operator socket without an answer"));
      }
    });
  });
}

/** True when a process with this pid exists and is not a zombie (the build lock uses it). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // A killed process can linger as a zombie that kill -0 reports alive.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true; // no /proc: trust kill -0
  }
}
