// The operator commands. Each is a plain function over the services: the CLI
// runs it itself (no app running, or DATABASE_URL) or the app runs it for the
// CLI, in-process, when it owns the embedded folder. Output goes into the
// returned result, never straight to the terminal, so both paths print the same.
import { parseArgs } from "node:util";
import { z } from "zod";
import { getDatabase } from "@/lib/db";
import { DatabaseOwnedError } from "@/lib/db/owner-lock";
import { isKeywardError } from "@/lib/errors";
import { COMMANDS, type CommandContext, type CommandSpec } from "./registry";
import { SCAN_USAGE } from "./scan";
import type { CommandResult } from "./types";

export type { CommandContext } from "./registry";

const USAGE = `usage: npm run keyward -- <command> [--flags] [--json]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)} ${c.usage}`)
  .join("\n")}
  ${"scan".padEnd(14)} ${SCAN_USAGE}
`;

function ok(stdout: string): CommandResult {
  return { code: 0, stdout, stderr: "" };
}
function failure(message: string, code = 1): CommandResult {
  // One line: the reason, nothing else.
  return { code, stdout: "", stderr: `keyward: ${message.replace(/\s*\n\s*/g, " ")}\n` };
}

type Parsed =
  | { result: CommandResult }
  | { name: string; spec: CommandSpec; input: unknown; json: boolean };

/** The command and its flags, checked; or the answer (help, or a one-line refusal) when not runnable. */
function parseCommand(argv: string[]): Parsed {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") return { result: ok(USAGE) };
  const spec = COMMANDS[name as keyof typeof COMMANDS] as CommandSpec | undefined;
  if (!spec) {
    return { result: failure(`unknown command "${name}"; run 'npm run keyward -- help'`, 2) };
  }
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...spec.options, json: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    });
    values = parsed.values as Record<string, unknown>;
  } catch (e) {
    return { result: failure(`${name}: ${(e as Error).message}`, 2) };
  }
  const json = values.json === true;
  delete values.json;
  const input = spec.schema.safeParse(values);
  if (!input.success) {
    const issue = input.error.issues[0];
    const where = issue.path.length ? `--${issue.path.join(".")}` : "input";
    return { result: failure(`${name}: ${where}: ${issue.message}`, 2) };
  }
  return { name, spec, input: input.data, json };
}

/**
 * The answer for a command that will not run (help, an unknown command, a bad flag), or null
 * when it may: the CLI asks before it opens or contacts the database, so bad input costs nothing.
 */
export function answerWithoutDatabase(argv: string[]): CommandResult | null {
  const parsed = parseCommand(argv);
  if ("result" in parsed) return parsed.result;
  return null;
}

export async function executeCommand(
  argv: string[],
  ctx: Pick<CommandContext, "via">,
): Promise<CommandResult> {
  const parsed = parseCommand(argv);
  if ("result" in parsed) return parsed.result;
  const { name, spec, json } = parsed;
  const input = { data: parsed.input };
  let db: CommandContext["db"] | undefined;
  if (spec.database !== false) {
    try {
      db = (await getDatabase()).prisma;
    } catch (e) {
      const msg =
        e instanceof DatabaseOwnedError
          ? e.message
          : `cannot open the database: ${(e as Error).message}`;
      return failure(msg);
    }
  }
  try {
    const out = await spec.run(input.data, { via: ctx.via, db: db as CommandContext["db"] });
    return ok(json ? `${JSON.stringify(out.json, jsonReplacer)}\n` : `${out.text}\n`);
  } catch (e) {
    if (isKeywardError(e)) return failure(`${name}: ${e.message}`);
    if (e instanceof z.ZodError)
      return failure(`${name}: ${e.issues[0]?.message ?? "invalid input"}`, 2);
    return failure(`${name}: ${(e as Error).message}`);
  }
}

function jsonReplacer(_key: string, value: unknown) {
  if (typeof value === "bigint") return Number(value);
  return value;
}
