// The @keyward/sdk middleware's overhead (issue 14), run by hand:
//
//   npm run build -w packages/sdk
//   npx tsx bench/sdk-middleware.ts [--connections 50] [--duration 10] [--warmup 5] [--rounds 1]
//
// One Keyward (embedded, lean lane, no Redis) with an ENTERPRISE key limited to 1,000,000
// requests a minute and a service credential; one Express app (this file with --serve, its own
// process) with three routes answering the same fixed JSON: plain, behind keyward.express()
// (a verify per request, usage reported in batches), and behind keyward.express() with the
// 5 s in-process cache. autocannon in this process hits each route in the same run, in that
// order, each row a warm-up then the measured run; --rounds N repeats and reports medians.
// Results: a markdown table on stdout and bench/results/sdk-middleware-<time>.md.
import { type ChildProcess, execSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort, root, runCli } from "@/tests/helpers/server";
import { createBenchKey, type KeywardServer, startKeyward } from "./lib/keyward";
import { type LoadResult, runLoad } from "./lib/load";

const { values: args } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    connections: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "5" },
    rounds: { type: "string", default: "1" },
  },
});

const ROUTES = [
  { row: "Express, plain route", path: "/plain" },
  { row: "Express + keyward.express() (verify per request)", path: "/protected" },
  { row: "Express + keyward.express(), cacheTtlMs 5000", path: "/cached" },
] as const;

async function serve(): Promise<void> {
  const { default: express } = await import("express");
  const { createKeyward } = await import("@keyward/sdk");
  const common = {
    baseUrl: process.env.KEYWARD_URL!,
    serviceCredential: process.env.KEYWARD_SERVICE_CREDENTIAL,
  };
  const live = createKeyward(common);
  const cached = createKeyward({ ...common, cacheTtlMs: 5000 });
  const app = express();
  const answer = (_req: unknown, res: { json(b: unknown): void }) => res.json({ ok: true });
  app.get("/plain", answer);
  app.get("/protected", live.express(), answer);
  app.get("/cached", cached.express(), answer);
  app.get("/pending", (_req, res) => {
    res.json({ pending: live.pending + cached.pending });
  });
  const port = Number(process.env.PORT);
  app.listen(port, "127.0.0.1", () => console.log(`bench app: ready on ${port}`));
  process.once("SIGTERM", () => {
    void Promise.all([live.close(), cached.close()]).finally(() => process.exit(0));
  });
}

function startApp(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", path.join(root, "bench/sdk-middleware.ts"), "--serve"],
    { cwd: root, env: { ...process.env, ...env, PORT: String(port) }, stdio: "pipe" },
  );
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes("ready on")) {
        clearInterval(t);
        resolve(proc);
      } else if (proc.exitCode !== null) {
        clearInterval(t);
        reject(new Error(out));
      }
    }, 50);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const connections = Number(args.connections);
  const durationS = Number(args.duration);
  const warmupS = Number(args.warmup);
  const rounds = Math.max(1, Number(args.rounds));
  const kw: KeywardServer = await startKeyward({ kind: "embedded" }, { lean: true });
  let app: ChildProcess | undefined;
  try {
    const key = await createBenchKey(kw, "sdk");
    const svc = await runCli(["service:create", "--name", "bench-sdk", "--json"], {
      KEYWARD_DATA_DIR: kw.server.dataDir,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
    });
    if (svc.code !== 0) throw new Error(`service:create failed: ${svc.stderr}`);
    const port = await freePort();
    app = await startApp(
      {
        KEYWARD_URL: kw.server.url,
        KEYWARD_SERVICE_CREDENTIAL: String(JSON.parse(svc.stdout).secret),
      },
      port,
    );
    const results = new Map<string, LoadResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (const r of ROUTES) {
        const res = await runLoad({
          url: `http://127.0.0.1:${port}${r.path}`,
          method: "GET",
          headers: { authorization: `Bearer ${key.key}` },
          connections,
          durationS,
          warmupS,
        });
        results.set(r.row, [...(results.get(r.row) ?? []), res]);
        console.error(`${r.row}: ${Math.round(res.rps)} req/s, p99 ${res.p99} ms`);
      }
    }
    const plain = median(results.get(ROUTES[0].row)!.map((x) => x.rps));
    const lines = [
      `| row | requests/s | p50 ms | p99 ms | requests | errors | non-2xx | vs plain |`,
      `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ];
    for (const r of ROUTES) {
      const xs = results.get(r.row)!;
      const rps = median(xs.map((x) => x.rps));
      lines.push(
        `| ${r.row} | ${Math.round(rps).toLocaleString("en")} | ${median(xs.map((x) => x.p50))} | ${median(xs.map((x) => x.p99))} | ${xs.reduce((a, x) => a + x.requests, 0).toLocaleString("en")} | ${xs.reduce((a, x) => a + x.errors + x.timeouts, 0)} | ${xs.reduce((a, x) => a + x.non2xx, 0)} | ${((rps / plain) * 100).toFixed(0)}% |`,
      );
    }
    const pending = await fetch(`http://127.0.0.1:${port}/pending`).then((r) => r.json());
    const commit = execSync("git rev-parse --short HEAD", { cwd: root }).toString().trim();
    const text = [
      `sdk-middleware at ${commit}, ${new Date().toISOString()}: ${os.cpus().length} cores, node ${process.version}, load ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}`,
      `${connections} connections, ${warmupS} s warm-up + ${durationS} s per row, ${rounds} round(s); usage events still queued at the end: ${JSON.stringify(pending)}`,
      "",
      ...lines,
      "",
    ].join("\n");
    console.log(text);
    mkdirSync(path.join(root, "bench/results"), { recursive: true });
    const file = path.join(
      root,
      `bench/results/sdk-middleware-${new Date().toISOString().replaceAll(":", "-")}.md`,
    );
    writeFileSync(file, text);
  } finally {
    const appExit = app && new Promise((r) => app?.once("exit", r));
    app?.kill("SIGTERM");
    await appExit;
    await kw.server.stop();
  }
}

if (args.serve) await serve();
else {
  await main();
  process.exit(0);
}
