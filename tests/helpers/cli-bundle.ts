// The CLI's own code (scripts/cli.ts and everything it imports from lib/) bundled once per
// test run (tests/helpers/global-setup.ts) into plain JavaScript, so tests that run the CLI do
// not pay tsx's start-up and per-file transform each time (about 1.2 s of CPU per run on this
// machine: 2.1 s to answer an unknown command through tsx, 0.9 s through the bundle). Packages
// stay external and load from node_modules as in `npm run keyward`; the bundle lives under tmp/
// in the repository so they resolve, and the working directory stays the caller's.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { root } from "./server";

interface CliBundle {
  /** Path of the bundled entry; pass it as `runCli`'s `script`. */
  script: string;
  dispose(): void;
}

export async function bundleCli(): Promise<CliBundle> {
  mkdirSync(path.join(root, "tmp"), { recursive: true });
  const dir = mkdtempSync(path.join(root, "tmp", "cli-bundle-"));
  const script = path.join(dir, "cli.mjs");
  await build({
    entryPoints: [path.join(root, "scripts/cli.ts")],
    outfile: script,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "warning",
  });
  return { script, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
