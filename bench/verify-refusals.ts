// The two refusal rows of verify-bench.ts alone, alternated (ABBA ...) on one lean-lane server, so
// neither always runs first (issue 17: a bad checksum must be answered at least as fast as a bare
// format error). Run by hand:
//
//   npx tsx bench/verify-refusals.ts [--pairs 3] [--duration 5] [--warmup 2] [--connections 50]
//
// Both keys have the same length; both spend the client address's failed-attempt budget, so past
// its 100 a minute both are answered 429 through the same path. Prints each run and the medians.
import os from "node:os";
import { parseArgs } from "node:util";
import { generateKey } from "@/lib/keys";
import { startKeyward } from "./lib/keyward";
import { runLoad } from "./lib/load";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
  },
});
const BAD_FORMAT_KEY = `pk_live_${"A".repeat(42)}!`;
const BAD_CHECKSUM_KEY = (() => {
  const k = generateKey("live").key;
  return k.slice(0, -1) + (k.endsWith("A") ? "E" : "A");
})();

const s = await startKeyward({ kind: "embedded" }, { lean: true });
const runs: Record<"format" | "checksum", Array<{ rps: number; threadUs: number }>> = {
  format: [],
  checksum: [],
};
try {
  for (let i = 0; i < Number(args.pairs); i++) {
    const order =
      i % 2 === 0 ? (["format", "checksum"] as const) : (["checksum", "format"] as const);
    for (const which of order) {
      const r = await runLoad({
        url: `${s.server.url}/api/v1/keys/verify`,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: which === "format" ? BAD_FORMAT_KEY : BAD_CHECKSUM_KEY }),
        connections: Number(args.connections),
        durationS: Number(args.duration),
        warmupS: Number(args.warmup),
        pid: s.server.proc.pid,
      });
      const threadUs = r.cpu?.threadUs ?? Number.NaN;
      runs[which].push({ rps: r.rps, threadUs });
      console.error(
        `${which}: ${r.rps.toFixed(0)} req/s, ${threadUs.toFixed(0)} us/req on the request thread, non-2xx ${r.non2xx}/${r.requests} (load ${os.loadavg()[0]!.toFixed(2)})`,
      );
    }
  }
} finally {
  await s.server.stop();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = median(runs.format.map((r) => r.rps));
const c = median(runs.checksum.map((r) => r.rps));
console.log(`| refusal | req/s (median of ${runs.format.length}) | request thread µs/req |`);
console.log(`| --- | ---: | ---: |`);
console.log(
  `| bare format error | ${f.toFixed(0)} | ${median(runs.format.map((r) => r.threadUs)).toFixed(0)} |`,
);
console.log(
  `| bad checksum | ${c.toFixed(0)} | ${median(runs.checksum.map((r) => r.threadUs)).toFixed(0)} |`,
);
console.log(
  `\nbad checksum / format error: ${(c / f).toFixed(2)}x; node ${process.version}, ${os.cpus().length} cores`,
);
process.exit(0);
