// `npm run keyward -- scan PATH... [--json]`: finds Keyward keys in files and folders, for a
// pre-commit hook or CI. A match must pass the key's checksum (lib/keys/checksum.ts), so
// look-alikes in docs and tests are not reported. Prints where, and the key's prefix and hint
// only, never the key. Exit codes: 0 none found, 1 found, 2 usage error or unreadable path.
// Skips node_modules and .git, symbolic links, files over 5 MiB, and binaries (a NUL byte in
// the first 8 KiB, as git decides). Needs no database.
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { hasValidChecksum, KEY_HINT_LENGTH, KEY_PREFIX_LENGTH } from "@/lib/keys";
import type { CommandResult } from "./types";

export const SCAN_USAGE = "PATH... [--json]  find Keyward keys (checksum-valid) in files";

const SKIP_DIRS = new Set(["node_modules", ".git"]);
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const SNIFF_BYTES = 8000;
// A candidate not glued to more token characters on either side; the checksum decides.
const CANDIDATE = /(?<![A-Za-z0-9_-])pk_(?:live|test)_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

export interface ScanFinding {
  file: string;
  line: number;
  column: number;
  prefix: string;
  hint: string;
}

interface ScanReport {
  findings: ScanFinding[];
  filesScanned: number;
  skipped: { file: string; reason: "binary" | "too large" | "symlink" }[];
}

function findInText(file: string, text: string, out: ScanFinding[]): void {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.includes("pk_")) continue;
    for (const m of line.matchAll(CANDIDATE)) {
      if (!hasValidChecksum(m[0])) continue;
      out.push({
        file,
        line: i + 1,
        column: (m.index ?? 0) + 1,
        prefix: m[0].slice(0, KEY_PREFIX_LENGTH),
        hint: m[0].slice(-KEY_HINT_LENGTH),
      });
    }
  }
}

async function scanFile(file: string, report: ScanReport): Promise<void> {
  const info = await lstat(file);
  if (info.isSymbolicLink()) return void report.skipped.push({ file, reason: "symlink" });
  if (info.size > MAX_FILE_BYTES) return void report.skipped.push({ file, reason: "too large" });
  const bytes = await readFile(file);
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) {
    return void report.skipped.push({ file, reason: "binary" });
  }
  report.filesScanned++;
  findInText(file, bytes.toString("utf8"), report.findings);
}

async function scanPath(target: string, report: ScanReport): Promise<void> {
  const info = await lstat(target);
  if (!info.isDirectory()) return scanFile(target, report);
  const entries = await readdir(target, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = path.join(target, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) await scanPath(full, report);
    } else if (e.isFile() || e.isSymbolicLink()) {
      await scanFile(full, report);
    }
  }
}

const usageError = (message: string): CommandResult => ({
  code: 2,
  stdout: "",
  stderr: `keyward: scan: ${message}\nusage: npm run keyward -- scan ${SCAN_USAGE}\n`,
});

export async function runScan(argv: string[]): Promise<CommandResult> {
  let paths: string[];
  let json: boolean;
  try {
    const parsed = parseArgs({
      args: argv,
      options: { json: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
    paths = parsed.positionals;
    json = parsed.values.json === true;
  } catch (e) {
    return usageError((e as Error).message);
  }
  if (paths.length === 0) return usageError("name at least one file or folder");
  const report: ScanReport = { findings: [], filesScanned: 0, skipped: [] };
  for (const p of paths) {
    try {
      await scanPath(p, report);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      return usageError(`cannot read ${p} (${code})`);
    }
  }
  const found = report.findings.length;
  const code = found ? 1 : 0;
  if (json) return { code, stdout: `${JSON.stringify(report)}\n`, stderr: "" };
  const lines = report.findings.map(
    (f) => `${f.file}:${f.line}:${f.column}: Keyward key ${f.prefix}…${f.hint}`,
  );
  const summary = found
    ? `found ${found} Keyward key${found === 1 ? "" : "s"} in ${report.filesScanned} files scanned; revoke or rotate them and remove them from the files`
    : `no Keyward keys in ${report.filesScanned} files scanned`;
  return {
    code,
    stdout: lines.length ? `${lines.join("\n")}\n` : "",
    stderr: `keyward: scan: ${summary}\n`,
  };
}
