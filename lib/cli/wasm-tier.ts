// A CLI run lasts seconds: V8's optimizing tier for WebAssembly recompiles PGlite's hot functions
// on background threads and costs more CPU than it saves in that time (measured here on the
// bundled CLI: keys:create 4.2 s -> 2.2 s of CPU, org:create on a new folder 11 s -> 7.4 s). So the
// CLI keeps V8's baseline tier (Liftoff) only. The flag is read when a module is compiled: this
// must run before PGlite or Prisma compile theirs, so scripts/cli.ts imports it first. The server
// (scripts/start.ts) keeps both tiers: it runs long enough for the optimized code to pay off.
import { setFlagsFromString } from "node:v8";

setFlagsFromString("--liftoff-only");
