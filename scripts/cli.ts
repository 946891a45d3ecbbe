// `npm run keyward -- <command> [--flags]`: see lib/cli/commands.ts for the commands.
// First: V8's WebAssembly tier for a short run, before anything compiles a module.
import "@/lib/cli/wasm-tier";
import { runCli } from "@/lib/cli/main";
import { config } from "@/lib/config";

// Loads .env and checks every setting before a command runs; a bad one fails in one line.
Promise.resolve()
  .then(() => config())
  .then(() => runCli(process.argv.slice(2)))
  .then(
    (code) => process.exit(code),
    (e) => {
      console.error(`keyward: ${(e as Error).message}`);
      process.exit(1);
    },
  );
