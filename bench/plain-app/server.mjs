// Serves the plain app the way Keyward's server.ts serves Keyward: node:http in front of Next's
// request handler (production mode), so the two route-handler rows differ only by Keyward's code.
import http from "node:http";
import next from "next";

const port = Number.parseInt(process.env.PORT || "3100", 10);
const hostname = "127.0.0.1";
const app = next({ dev: false, dir: import.meta.dirname, hostname, port });
await app.prepare();
const handle = app.getRequestHandler();
const server = http.createServer((req, res) => {
  handle(req, res).catch(() => {
    res.statusCode = 500;
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, hostname, () => console.log(`plain-app: ready on http://${hostname}:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
