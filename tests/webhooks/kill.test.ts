// A process running the delivery loop is killed with SIGKILL while deliveries are in flight; a
// new one delivers the rest: every event arrives (at least once), and all end DELIVERED. The
// leases the dead process held run out (2.5 s here) and its in-flight deliveries are retried.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db";
import { createPostgresDatabase, testDbKinds } from "@/tests/helpers/db";
import { root } from "@/tests/helpers/server";
import { enqueueMany, orgWithEndpoint, type Receiver, startReceiver } from "./support";

const EVENTS = 60;

function startChild(env: Record<string, string>): {
  proc: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  logs: () => string;
} {
  const proc = spawn(process.execPath, ["--import", "tsx", "tests/webhooks/loop-child.ts"], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      AUTH_SECRET: process.env.AUTH_SECRET ?? "",
    } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("ready")) resolve();
    });
    proc.once("exit", () => reject(new Error(`child exited before ready: ${out}`)));
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  ready.catch(() => {});
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return { proc, ready, exited, logs: () => out };
}

describe.each(testDbKinds)("delivery after SIGKILL on %s", (kind) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it("delivers every event after a restart", async () => {
    // Answers after 150 ms, so several deliveries are in flight at any moment.
    const rx: Receiver = await startReceiver((_r, res) => {
      setTimeout(() => res.writeHead(200).end(), 150);
      return undefined;
    });
    cleanup.push(() => rx.close());

    let env: Record<string, string>;
    let target: Parameters<typeof openDatabase>[0];
    if (kind === "postgres") {
      const pg = await createPostgresDatabase();
      cleanup.push(() => pg.drop());
      env = { WH_DATABASE_URL: pg.url };
      target = { kind: "postgres", url: pg.url };
    } else {
      const dir = mkdtempSync(path.join(os.tmpdir(), "kw-wh-kill-"));
      env = { WH_DATA_DIR: dir };
      target = { kind: "pglite", dataDir: dir };
    }
    // Set up, then let go of the database (the embedded one has one owner at a time).
    const setup = await openDatabase(target);
    const { org, endpoint } = await orgWithEndpoint(setup.prisma, `${rx.url}/k`);
    await enqueueMany(setup.prisma, org.id, EVENTS);
    await setup.close();

    const first = startChild(env);
    cleanup.push(async () => {
      first.proc.kill("SIGKILL");
    });
    await first.ready;
    await rx.waitFor(15, 120_000);
    first.proc.kill("SIGKILL");
    await first.exited;
    const atKill = new Set(rx.received.map((r) => r.headers["webhook-id"])).size;
    expect(atKill).toBeLessThan(EVENTS);

    const second = startChild(env);
    cleanup.push(async () => {
      second.proc.kill("SIGKILL");
    });
    await second.ready;
    const until = Date.now() + 180_000;
    while (new Set(rx.received.map((r) => r.headers["webhook-id"])).size < EVENTS) {
      if (Date.now() > until) throw new Error(`not all delivered: ${second.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Let the last answers be recorded, then stop it cleanly (SIGTERM: finish, close).
    const delivered = async () => {
      const check = await openDatabase(target);
      try {
        return await check.prisma.webhookDelivery.count({
          where: { endpointId: endpoint.id, status: "DELIVERED" },
        });
      } finally {
        await check.close();
      }
    };
    if (kind === "postgres") {
      const end = Date.now() + 60_000;
      while ((await delivered()) < EVENTS && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
      }
    } else {
      await new Promise((r) => setTimeout(r, 2_000));
    }
    second.proc.kill("SIGTERM");
    await second.exited;
    expect(await delivered()).toBe(EVENTS);
    expect(new Set(rx.received.map((r) => r.headers["webhook-id"])).size).toBe(EVENTS);
  }, 400_000);
});
