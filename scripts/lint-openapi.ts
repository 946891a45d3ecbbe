// `npm run lint:openapi`: Redocly's recommended rules (redocly.yaml) over the OpenAPI document,
// built in-process from lib/openapi (no server) and written to tmp/openapi.json. Any problem,
// warnings included, fails the run.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getOpenApiDocument } from "@/lib/openapi";

const root = path.resolve(import.meta.dirname, "..");
const out = path.join(root, "tmp/openapi.json");
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(getOpenApiDocument(), null, 2)}\n`);

const r = spawnSync(
  path.join(root, "node_modules/.bin/redocly"),
  ["lint", out, "--config", path.join(root, "redocly.yaml"), "--format", "stylish"],
  {
    encoding: "utf8",
    // No network: no telemetry, no update check.
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  },
);
const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
// Only Redocly's findings: not its banner about the Node version.
process.stdout.write(`${output.replace(/^\s*[╔║╚].*\n/gm, "").trim()}\n`);
// Redocly exits 0 when there are only warnings; here a warning fails too.
const warnings = /You have \d+ warnings?/.test(output) || /\bwarning\b/i.test(r.stdout ?? "");
process.exit(r.status !== 0 || r.error || warnings ? 1 : 0);
