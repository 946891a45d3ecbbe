// The ceiling: a bare node:http server answering every request with the same fixed JSON as
// the plain Next route (bench/plain-app/app/plain/route.js). Run as its own process by
// bench/verify-bench.ts: `PORT=3101 node bench/lib/bare-server.mjs`.
import http from "node:http";

const body = JSON.stringify({ ok: true, service: "plain", note: "fixed json" });
const port = Number.parseInt(process.env.PORT || "3101", 10);
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`bare: ready on http://127.0.0.1:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
