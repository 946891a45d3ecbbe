// vitest globalSetup: the migrated PGlite template (pglite-template.ts) is made once, here,
// before any test file starts, instead of by the first files of each worker at the same time.
import { pgliteTemplateDir } from "./pglite-template";

export default async function setup(): Promise<void> {
  await pgliteTemplateDir();
}
