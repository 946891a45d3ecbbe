// Build the app if the build is missing or stale (used by npm test and npm start).
import { ensureBuilt } from "./ensure-built";

ensureBuilt().catch((e) => {
  console.error(`keyward: ${(e as Error).message}`);
  process.exit(1);
});
