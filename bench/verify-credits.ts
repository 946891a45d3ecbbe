// Verify over HTTP with credits and an IP allowlist on vs off (issue 16: within 10 %), on one
// lean-lane server, the two keys alternated (ABBA ...) so neither always runs first. Run by hand:
//
//   npx tsx bench/verify-credits.ts [--pairs 3] [--duration 10] [--warmup 3] [--connections 50]
//     [--backend embedded|postgres]   (postgres: DATABASE_URL and REDIS_URL of the servers)
//
// Two keys of one ENTERPRISE organization made by the CLI: a plain one, and one with 1,000,000,000
// credits and 3 networks (the client's address in the last). Both requests send the same body
// shape ({ key, ip }), each verify of the second spends one credit. Reports, per key, the medians
// of req/s and of the server's CPU per request (request thread and whole process, /proc), and the
// credits key's thread CPU as a share of the plain key's.
import os from "node:os";
import { parseArgs } from "node:util";
import { type Backend, createBenchKey, startKeyward } from "./lib/keyward";
import { runLoad } from "./lib/load";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    backend: { type: "string", default: "embedded" },
  },
});

const backend: Backend =
  args.backend === "postgres"
    ? {
        kind: "postgres",
        databaseUrl: process.env.DATABASE_URL ?? "",
        redisUrl: process.env.REDIS_URL ?? "",
      }
    : { kind: "embedded" };
if (backend.kind === "postgres" && (!backend.databaseUrl || !backend.redisUrl)) {
  throw new Error("--backend postgres needs DATABASE_URL and REDIS_URL");
}

const s = await startKeyward(backend, { lean: true });
type Row = { rps: number; threadUs: number; processUs: number };
const rows = { plain: [] as Row[], credits: [] as Row[] };
try {
  const plain = await createBenchKey(s, "plain");
  const credits = await createBenchKey(s, "credits", 1_000_000, [
    "--credits",
    "1000000000",
    "--cidrs",
    "10.0.0.0/8,2001:db8::/32,203.0.113.0/24",
  ]);
  for (let i = 0; i < Number(args.pairs); i++) {
    const order = i % 2 === 0 ? (["plain", "credits"] as const) : (["credits", "plain"] as const);
    for (const which of order) {
      const key = which === "plain" ? plain : credits;
      const r = await runLoad({
        url: `${s.server.url}/api/v1/keys/verify`,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: key.key, ip: "203.0.113.7" }),
        connections: Number(args.connections),
        durationS: Number(args.duration),
        warmupS: Number(args.warmup),
        pid: s.server.proc.pid,
      });
      if (r.non2xx > 0) throw new Error(`${which}: ${r.non2xx} non-2xx answers`);
      const row = {
        rps: r.rps,
        threadUs: r.cpu?.threadUs ?? Number.NaN,
        processUs: r.cpu?.processUs ?? Number.NaN,
      };
      rows[which].push(row);
      console.error(
        `${which}: ${row.rps.toFixed(0)} req/s, ${row.threadUs.toFixed(0)} us/req thread, ${row.processUs.toFixed(0)} process (load ${os.loadavg()[0]!.toFixed(2)})`,
      );
    }
  }
  // Every verify of the credits key was answered valid: it spent one credit each.
  const answer = await fetch(`${s.server.url}/api/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: credits.key, ip: "203.0.113.7", cost: 0 }),
  });
  const body = (await answer.json()) as { code: string; credits: { remaining: number } | null };
  console.error(`credits key: ${body.code}, ${body.credits?.remaining} credits left`);
} finally {
  await s.server.stop();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = (k: "plain" | "credits", f: keyof Row) => median(rows[k].map((r) => r[f]));
console.log(
  `| verify (${backend.kind}, lean lane, median of ${rows.plain.length}) | req/s | thread µs/req | process µs/req |`,
);
console.log("| --- | ---: | ---: | ---: |");
for (const k of ["plain", "credits"] as const) {
  const name = k === "plain" ? "no credits, no allowlist" : "credits + 3 networks";
  console.log(
    `| ${name} | ${m(k, "rps").toFixed(0)} | ${m(k, "threadUs").toFixed(1)} | ${m(k, "processUs").toFixed(1)} |`,
  );
}
console.log(
  `\ncredits + allowlist / plain, request thread CPU: ${((m("credits", "threadUs") / m("plain", "threadUs")) * 100).toFixed(1)} %; node ${process.version}, ${os.cpus().length} cores`,
);
process.exit(0);
