// The lean lane's memory under a long verify load, on its own (run by hand):
//
//   npx tsx bench/verify-memory.ts [--seconds 180] [--warmup 10] [--connections 50]
//
// verify-bench.ts ends with a 60 s memory row; under steady load V8 lets old space grow until a
// full collection, so RSS saws up and down and 60 s shows only a few teeth. This runs longer
// and prints the floor (lowest RSS) of every 30 s window: a leak shows as floors that keep
// rising, a settled heap as floors that stop. Embedded database, in-process limiter, one fresh
// ENTERPRISE key with a limit of 1,000,000 per minute, so nothing is throttled.
import { parseArgs } from "node:util";
import { createBenchKey, startKeyward, verifyOnce } from "./lib/keyward";
import { runLoad } from "./lib/load";
import { sampleRss } from "./lib/rss";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "180" },
    warmup: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
  },
});
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
const connections = Number(values.connections);

const s = await startKeyward({ kind: "embedded" }, { lean: true });
try {
  const key = await createBenchKey(s, "memory");
  const load = {
    url: `${s.server.url}/api/v1/keys/verify`,
    method: "POST" as const,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: key.key }),
    connections,
  };
  await runLoad({ ...load, durationS: warmupS, warmupS: 0 });
  const pid = s.server.proc.pid as number;
  const sampler = sampleRss(pid);
  const result = await runLoad({ ...load, durationS: seconds, warmupS: 0 });
  const m = sampler.stop();
  const after = await verifyOnce(s.server.url, key.key);
  const floors: number[] = [];
  for (let t = 0; t < seconds; t += 30) {
    const w = m.series.filter((p) => p.t >= t && p.t < t + 30).map((p) => p.mb);
    if (w.length) floors.push(Math.round(Math.min(...w)));
  }
  const r = (x: number) => Math.round(x);
  console.log(
    `verify, lean lane (embedded), ${seconds} s after a ${warmupS} s warm-up: ` +
      `${r(result.rps)} requests/s, p99 ${result.p99} ms, errors ${result.errors}, ` +
      `non-2xx ${result.non2xx}; the key afterwards: ${after.code}`,
  );
  console.log("");
  console.log("| samples | start MB | min MB | max MB | end MB | lowest RSS per 30 s, MB |");
  console.log("| ---: | ---: | ---: | ---: | ---: | --- |");
  console.log(
    `| ${m.samples} | ${r(m.startMb)} | ${r(m.minMb)} | ${r(m.maxMb)} | ${r(m.endMb)} | ${floors.join(", ")} |`,
  );
  console.log("");
  console.log(`RSS each second, MB: ${m.series.map((p) => r(p.mb)).join(" ")}`);
} finally {
  await s.server.stop();
}
