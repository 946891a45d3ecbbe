// vitest globalSetup, before any test file starts:
// - the migrated PGlite template (pglite-template.ts), instead of by the first files of each
//   worker at the same time;
// - the CLI bundled once for the run (cli-bundle.ts), named in KW_TEST_CLI_BUNDLE, which the
//   test workers inherit: runCli uses it unless a test names its script (the operator's entry,
//   `scripts/cli.ts` through tsx, where that is what a test is about). Each CLI run through tsx
//   paid its start-up and transforms (about 1.2 s of CPU here, several seconds on a loaded
//   machine), for about a hundred runs.
import { bundleCli } from "./cli-bundle";
import { pgliteTemplateDir } from "./pglite-template";

export default async function setup(): Promise<() => void> {
  const [, cli] = await Promise.all([pgliteTemplateDir(), bundleCli()]);
  process.env.KW_TEST_CLI_BUNDLE = cli.script;
  return () => cli.dispose();
}
