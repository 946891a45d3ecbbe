// Summarizes a V8 .cpuprofile (from `verify-bench.ts --cpu-prof`) over the seconds the server
// was under load: self time by package/file and by function, as shares of busy CPU.
//
//   npx tsx bench/lib/profile-summary.ts bench/results/prof/CPU....cpuprofile [--skip 10]
//     [--min-busy 0.8] [--top 40]
//
// Also prints total (inclusive) time by function: the share of busy samples with that function
// anywhere on the stack; --match REGEX limits that list to matching names/files.
// --skip drops the first seconds (start-up: opening and migrating the database); a second
// counts as "under load" when at least --min-busy of it was not idle.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    skip: { type: "string", default: "10" },
    "min-busy": { type: "string", default: "0.8" },
    top: { type: "string", default: "40" },
    match: { type: "string" },
  },
});
const file = positionals[0];
if (!file) {
  console.error("usage: npx tsx bench/lib/profile-summary.ts FILE.cpuprofile [--skip S]");
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, "../..");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const isIdle = (n: ProfileNode) => n.callFrame.functionName === "(idle)";

// Each sample's second since the start, and each second's busy time.
const second: number[] = [];
const busyPerSecond = new Map<number, number>();
let t = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const d = profile.timeDeltas[i] ?? 0;
  t += d;
  const s = Math.floor(t / 1e6);
  second.push(s);
  if (!isIdle(nodes.get(profile.samples[i]!)!)) {
    busyPerSecond.set(s, (busyPerSecond.get(s) ?? 0) + d);
  }
}
const skip = Number(values.skip);
const minBusy = Number(values["min-busy"]) * 1e6;
const loaded = new Set(
  [...busyPerSecond].filter(([s, busy]) => s >= skip && busy >= minBusy).map(([s]) => s),
);

function label(cf: CallFrame): { group: string; fn: string } {
  const url = cf.url.replace(`file://${root}/`, "").replace(`${root}/`, "");
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  let group = pkg ?? (url || `(${cf.functionName || "native"})`);
  if (url.startsWith("wasm://")) group = "wasm (PGlite)";
  const where = url ? `${url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}` : "";
  return { group, fn: `${cf.functionName || "(anonymous)"} ${where}`.trim() };
}

const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byFnTotal = new Map<string, number>();
const byGroupTotal = new Map<string, number>();

const byGroup = new Map<string, number>();
const byFn = new Map<string, number>();
let busy = 0;
for (let i = 0; i < profile.samples.length; i++) {
  if (!loaded.has(second[i]!)) continue;
  const n = nodes.get(profile.samples[i]!)!;
  if (isIdle(n)) continue;
  const d = profile.timeDeltas[i] ?? 0;
  busy += d;
  const { group, fn } = label(n.callFrame);
  byGroup.set(group, (byGroup.get(group) ?? 0) + d);
  byFn.set(fn, (byFn.get(fn) ?? 0) + d);
  const seen = new Set<string>();
  for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
    const l = label(nodes.get(id)!.callFrame);
    for (const [key, map] of [
      [l.fn, byFnTotal],
      [`file ${l.group}`, byGroupTotal],
    ] as const) {
      if (seen.has(key)) continue;
      seen.add(key);
      map.set(key.replace(/^file /, ""), (map.get(key.replace(/^file /, "")) ?? 0) + d);
    }
  }
}

const top = Number(values.top);
const show = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${((v / busy) * 100).toFixed(1).padStart(5)} %  ${k}`)
    .join("\n");
console.log(
  `${loaded.size} seconds under load, ${(busy / 1e6).toFixed(1)} s busy CPU in them (${((busy / 1e6 / Math.max(1, loaded.size)) * 100).toFixed(0)} % of one core)\n`,
);
console.log(`by package / file:\n${show(byGroup)}\n`);
console.log(`by function (self time):\n${show(byFn)}\n`);
const match = values.match ? new RegExp(values.match) : null;
const totals = new Map([...byFnTotal].filter(([k]) => !match || match.test(k)));
console.log(`by function (total time, callees included):\n${show(totals)}\n`);
const groupTotals = new Map([...byGroupTotal].filter(([k]) => !match || match.test(k)));
console.log(`by package / file (total time, callees included):\n${show(groupTotals)}`);
