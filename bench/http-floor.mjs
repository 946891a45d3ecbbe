// The HTTP exchange alone, at verify's shape (run by hand): a bare node:http server that reads
// a verify-sized JSON body and answers with verify's headers and a verify-sized JSON answer, no
// Keyward code; against the same server answering the 49-byte fixed JSON of verify-bench.ts's
// bare row without reading the body. Each server is a child process; autocannon (50
// connections) runs in this one, as in verify-bench.ts.
//
//   node bench/http-floor.mjs [--seconds 10]
//
// It tells how much of the lean lane's 0.4x-of-bare budget the HTTP exchange itself uses.
import { fork } from "node:child_process";
import http from "node:http";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" } } });
const seconds = Number(values.seconds);
const fixed = JSON.stringify({ ok: true, service: "plain", note: "fixed json" });
const verifyAnswer = JSON.stringify({
  valid: true,
  code: "VALID",
  keyId: "2b7c8e2e-1111-4222-8333-944455556666",
  organizationId: "2b7c8e2e-1111-4222-8333-944455556666",
  environment: "live",
  scopes: ["keys:read", "keys:write"],
  expiresAt: null,
  ratelimit: { limit: 1000000, remaining: 999000, reset: 20 },
});
const verifyHeaders = {
  "ratelimit-policy": "1000000;w=60",
  "ratelimit-limit": "1000000",
  "ratelimit-remaining": "999000",
  "ratelimit-reset": "20",
  "x-request-id": "req_abcdefghijklmnop",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-type": "application/json",
  "content-length": Buffer.byteLength(verifyAnswer),
};

const handlers = {
  fixed: (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": fixed.length });
    res.end(fixed);
  },
  verify: (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200, verifyHeaders);
      res.end(verifyAnswer);
    });
  },
};

if (process.env.HTTP_FLOOR_SERVE) {
  const server = http.createServer(handlers[process.env.HTTP_FLOOR_SERVE]);
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1", () => process.send?.(server.address().port));
} else {
  console.log("| server | requests/s | µs per request (one core) |");
  console.log("| --- | ---: | ---: |");
  await measure("bare, fixed 49-byte JSON, body not read (verify-bench's bare row)", "fixed");
  await measure("bare, reads the body, answers with verify's headers and body", "verify");
}

async function measure(name, kind) {
  const child = fork(new URL(import.meta.url).pathname, [], {
    env: { ...process.env, HTTP_FLOOR_SERVE: kind },
  });
  const port = await new Promise((resolve) => child.once("message", resolve));
  const url = `http://127.0.0.1:${port}/`;
  const body = JSON.stringify({ key: `pk_live_${"x".repeat(43)}` });
  const opts = {
    url,
    method: "POST",
    body,
    connections: 50,
    headers: { "content-type": "application/json" },
  };
  await autocannon({ ...opts, duration: 3 });
  const r = await autocannon({ ...opts, duration: seconds });
  child.kill();
  const rps = r.requests.total / r.duration;
  console.log(`| ${name} | ${Math.round(rps).toLocaleString("en")} | ${(1e6 / rps).toFixed(0)} |`);
}
