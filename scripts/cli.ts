// `npm run keyward -- <command> [--flags]`: see lib/cli/commands.ts for the commands.
import { runCli } from "@/lib/cli/main";

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`keyward: ${(e as Error).message}`);
    process.exit(1);
  },
);
