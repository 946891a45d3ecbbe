#!/usr/bin/env node
// `npm test`: every check and every test, then one line "N passed, N failed".
// Installs what a fresh machine lacks (node_modules; Debian's chromium when
// root), then: prisma generate, lint (Biome, with the layering rules), OpenAPI lint, dead code
// (knip: unused files, exports, dependencies), duplicates (jscpd), the build, typecheck (after the
// build, which writes the route types to .next/types), the SDK, vitest (unit + integration on
// PGlite, and on PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set; API tests over real HTTP),
// Playwright in Chromium.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
const results = [];

function run(name, cmd, args, opts = {}) {
  const started = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...opts.env } });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const ok = r.status === 0;
  console.log(`=== ${name}: ${ok ? "ok" : `FAILED (exit ${r.status ?? r.signal})`} in ${secs} s`);
  results.push({ name, ok, secs });
  return ok;
}

if (!existsSync("node_modules/.package-lock.json")) {
  if (!run("install", "npm", ["ci", "--no-audit", "--no-fund"])) process.exit(1);
}

const chromium = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (!existsSync(chromium)) {
  if (process.getuid?.() === 0) {
    run("chromium", "sh", [
      "-c",
      "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
    ]);
  } else {
    console.error(
      `chromium is missing at ${chromium}: run 'sudo apt-get install -y chromium' (Debian) or set CHROMIUM_PATH`,
    );
    process.exit(1);
  }
}

const bin = (name) => path.join(root, "node_modules/.bin", name);
run("prisma generate", bin("prisma"), ["generate"]);
run("lint", bin("biome"), ["check", "."]);
run("openapi lint", process.execPath, ["--import", "tsx", "scripts/lint-openapi.ts"]);
run("dead code", bin("knip"), []);
// Copied blocks (jscpd, .jscpd.json): any clone not in .jscpd-baseline.json fails. The baseline
// holds the clones of 2026-12-01 and only shrinks: after removing one, `npx jscpd --baseline
// .jscpd-baseline.json --update-baseline`.
run("duplicates", bin("jscpd"), ["--baseline", ".jscpd-baseline.json", "--fail-on-new-clones"]);
// The build skips Next's own type check (KEYWARD_TEST_BUILD, next.config.ts): the typecheck step
// right after it checks the whole project, with the route types the build wrote to .next/types.
run("build", process.execPath, ["--import", "tsx", "scripts/build.ts"], {
  env: { KEYWARD_TEST_BUILD: "1" },
});
run("typecheck", bin("tsc"), ["--noEmit", "-p", "."]);
// @keyward/sdk: its committed API types must match the OpenAPI document the routes produce
// (checked before the build regenerates them), then it is bundled: the examples and tests/sdk
// import its dist/.
run("sdk types", process.execPath, [
  "--import",
  "tsx",
  "packages/sdk/scripts/generate.ts",
  "--check",
]);
run("sdk build", "npm", ["run", "build", "-w", "packages/sdk"]);

mkdirSync("tmp", { recursive: true });
const vitestJson = path.join(root, "tmp/vitest-results.json");
const pwJson = path.join(root, "tmp/playwright-results.json");
rmSync(vitestJson, { force: true });
rmSync(pwJson, { force: true });
run("vitest", bin("vitest"), [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${vitestJson}`,
]);
run("playwright", bin("playwright"), ["test"], {
  env: { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson },
});

let passed = 0;
let failed = 0;
let skipped = 0;
// The names of what failed, printed again after the step list: CI shows the end of the output.
const failedNames = [];
if (existsSync(vitestJson)) {
  const v = JSON.parse(readFileSync(vitestJson, "utf8"));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  skipped += v.numPendingTests + (v.numTodoTests ?? 0);
  // A file that failed to load counts as a failure even with no test in it.
  for (const f of v.testResults ?? []) {
    const file = path.relative(root, f.name);
    if (f.status === "failed" && f.assertionResults.length === 0) {
      failed += 1;
      failedNames.push(`vitest ${file}: ${(f.message ?? "failed to load").split("\n")[0]}`);
    }
    for (const a of f.assertionResults) {
      if (a.status === "failed") {
        const why = (a.failureMessages?.[0] ?? "").split("\n")[0].slice(0, 300);
        failedNames.push(`vitest ${file} > ${a.fullName}: ${why}`);
      }
    }
  }
} else {
  failed += 1;
}
if (existsSync(pwJson)) {
  const p = JSON.parse(readFileSync(pwJson, "utf8"));
  passed += p.stats.expected + (p.stats.flaky ?? 0);
  failed += p.stats.unexpected;
  skipped += p.stats.skipped;
  failed += (p.errors ?? []).length;
  const walk = (suite, file) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status === "unexpected") {
          const last = t.results?.at(-1);
          const why = (last?.error?.message ?? "").split("\n")[0].slice(0, 300);
          failedNames.push(`playwright ${file ?? suite.file}: ${spec.title}: ${why}`);
        }
      }
    }
    for (const s of suite.suites ?? []) walk(s, file ?? suite.file);
  };
  for (const s of p.suites ?? []) walk(s, s.file);
  for (const e of p.errors ?? [])
    failedNames.push(`playwright error: ${(e.message ?? "").split("\n")[0]}`);
} else {
  failed += 1;
}
// Checks that are not tests (typecheck, lint, OpenAPI lint, dead code, duplicates, builds) count as
// one test each.
for (const r of results) {
  if (
    [
      "prisma generate",
      "typecheck",
      "lint",
      "openapi lint",
      "dead code",
      "duplicates",
      "build",
      "sdk types",
      "sdk build",
      "install",
      "chromium",
    ].includes(r.name)
  ) {
    if (r.ok) passed += 1;
    else failed += 1;
  }
}
console.log("\nsteps:");
for (const r of results) console.log(`  ${r.ok ? "ok    " : "FAILED"} ${r.name} (${r.secs} s)`);
if (failedNames.length > 0) {
  console.log("\nfailed:");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strip the reporters' colour codes
  for (const n of failedNames) console.log(`  ${n.replace(/\u001b\[[0-9;]*m/g, "")}`);
}
const allOk = results.every((r) => r.ok) && failed === 0;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(allOk ? 0 : 1);
