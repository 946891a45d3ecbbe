// Verify with an IP allowlist on vs off (issue 16), in this process without HTTP (run by hand):
//
//   npx tsx bench/verify-allowlist.ts [--n 20000] [--rounds 7]
//
// A fresh embedded database (the server's own setup: file PGlite, in-process limiter and quota,
// the process's usage recorder), one ENTERPRISE organization and three keys made through the
// services: no allowlist, 3 networks, 100 networks, and 3 networks with credits. Each round runs POST /api/v1/keys/verify's
// whole route core (`runRoute`: body parse, verify, metering, output) N times per key, in turn,
// and measures this process's CPU time (user + system), not wall time: the machine is shared.
// Prints the median microseconds per verify of each key over the rounds and the ratio to "off".
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { n: { type: "string", default: "20000" }, rounds: { type: "string", default: "7" } },
});
const N = Number(values.n);
const ROUNDS = Number(values.rounds);

process.env.KEYWARD_DATA_DIR = mkdtempSync(path.join(os.tmpdir(), "kw-allowlist-"));
delete process.env.DATABASE_URL;
delete process.env.REDIS_URL;
delete process.env.RATE_LIMIT_STORE;

const { closeDatabase, getDb } = await import("@/lib/db");
const { createOrganization } = await import("@/lib/services/org-service");
const { createKey } = await import("@/lib/services/keys");
const { runRoute } = await import("@/lib/http/route");
const { verifyRoute } = await import("@/lib/http/routes");
const { getUsageRecorder } = await import("@/lib/services/usage-recorder");

const db = await getDb();
const tag = randomBytes(4).toString("hex");
const org = await createOrganization(
  db,
  { name: `Allowlist ${tag}`, email: `allowlist-${tag}@example.com`, plan: "ENTERPRISE" },
  { type: "system" },
);
const mk = async (allowedCidrs: string[], credits?: { remaining: number }) =>
  (
    await createKey(
      db,
      {
        organizationId: org.id,
        name: `allowlist-${allowedCidrs.length}`,
        environment: "live",
        rateLimitPerMinute: 1_000_000,
        allowedCidrs,
        credits,
      },
      { type: "system" },
    )
  ).key;
// The client's address is inside the last network, so every network is compared.
const hundred = Array.from({ length: 99 }, (_, i) => `10.${i}.0.0/16`).concat("203.0.113.0/24");
const cases = [
  { name: "off (no allowlist)", key: await mk([]) },
  { name: "on, 3 networks", key: await mk(["10.0.0.0/8", "2001:db8::/32", "203.0.113.0/24"]) },
  { name: "on, 100 networks", key: await mk(hundred) },
  // Issue 16's benchmark: credits and an allowlist on together (each verify spends 1 credit).
  {
    name: "credits + 3 networks",
    key: await mk(["10.0.0.0/8", "2001:db8::/32", "203.0.113.0/24"], { remaining: 100_000_000 }),
  },
];

function request(body: string) {
  const headers = new Map<string, string>([
    ["content-type", "application/json"],
    ["content-length", String(body.length)],
    ["x-forwarded-for", "127.0.0.1"],
  ]);
  return {
    method: "POST",
    url: new URL("http://127.0.0.1:3000/api/v1/keys/verify"),
    headers: { get: (n: string) => headers.get(n.toLowerCase()) ?? null },
    ip: "127.0.0.1",
    readBody: async () => body,
  };
}

const deps = { db: async () => db };
async function run(key: string, n: number): Promise<number> {
  const body = JSON.stringify({ key, ip: "203.0.113.7" });
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = await runRoute(verifyRoute, request(body), {}, deps);
    if ((r.body as { code: string }).code !== "VALID") throw new Error(JSON.stringify(r.body));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

for (const c of cases) await run(c.key, Math.min(2_000, N)); // warm-up: JIT, key cache
const samples = new Map(cases.map((c) => [c.name, [] as number[]]));
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) samples.get(c.name)!.push(await run(c.key, N));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off = median(samples.get(cases[0]!.name)!);
console.log(`| verify (route core, CPU µs/call, median of ${ROUNDS} × ${N}) | µs | vs off |`);
console.log("| --- | ---: | ---: |");
for (const c of cases) {
  const m = median(samples.get(c.name)!);
  console.log(`| ${c.name} | ${m.toFixed(2)} | ${((m / off) * 100).toFixed(1)} % |`);
}
await getUsageRecorder().flush();
await closeDatabase();
process.exit(0);
