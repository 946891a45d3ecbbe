// `npm run keyward -- scan PATH...` on a folder of fixtures: real keys (made here) are found with
// file:line and prefix…hint only, look-alikes with a bad checksum are not, binaries,
// node_modules and .git are skipped; exit codes 1 (found), 0 (clean), 2 (usage).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runScan } from "@/lib/cli/scan";
import { generateKey } from "@/lib/keys";
import { CLI_ENTRY, runCli } from "../helpers/server";

let dir: string;
let clean: string;
const live = generateKey("live").key;
const test = generateKey("test").key;
const hidden = generateKey("live").key;
const CLIENT_LINE = `fetch(url, { headers: { authorization: "Bearer ${test}" } });`;
const lookAlike = (() => {
  const k = generateKey("live").key;
  return k.slice(0, 20) + (k[20] === "A" ? "B" : "A") + k.slice(21);
})();

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kw-scan-"));
  writeFileSync(path.join(dir, ".env"), `# config\nAPI_KEY=${live}\n`);
  mkdirSync(path.join(dir, "src", "deep"), { recursive: true });
  writeFileSync(
    path.join(dir, "src", "deep", "client.ts"),
    `const a = 1;\nconst b = 2;\n${CLIENT_LINE}\n`,
  );
  writeFileSync(path.join(dir, "README.md"), `Example: ${lookAlike}\nNot a key: pk_live_short\n`);
  writeFileSync(path.join(dir, "glued.txt"), `x${hidden}x and ${hidden}A\n`);
  writeFileSync(
    path.join(dir, "image.bin"),
    Buffer.concat([Buffer.from([0x89, 0, 1]), Buffer.from(hidden)]),
  );
  mkdirSync(path.join(dir, "node_modules", "pkg"), { recursive: true });
  writeFileSync(path.join(dir, "node_modules", "pkg", "index.js"), `k = "${hidden}"`);
  mkdirSync(path.join(dir, ".git"));
  writeFileSync(path.join(dir, ".git", "COMMIT_EDITMSG"), hidden);
  clean = mkdtempSync(path.join(os.tmpdir(), "kw-scan-clean-"));
  writeFileSync(path.join(clean, "docs.md"), `Looks like a key: ${lookAlike}\n`);
});

describe("keyward scan", () => {
  it("finds the real keys only, and prints where and prefix…hint, never the key", async () => {
    const r = await runScan([dir]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toEqual([
      `${path.join(dir, ".env")}:2:9: Keyward key pk_live_…${live.slice(-4)}`,
      `${path.join(dir, "src", "deep", "client.ts")}:3:${CLIENT_LINE.indexOf(test) + 1}: Keyward key pk_test_…${test.slice(-4)}`,
    ]);
    for (const k of [live, test, hidden]) {
      expect(r.stdout + r.stderr).not.toContain(k);
      expect(r.stdout + r.stderr).not.toContain(k.slice(8, 40));
    }
    expect(r.stderr).toContain("found 2 Keyward keys");
  });

  it("answers --json with the findings and what it skipped", async () => {
    const r = await runScan([dir, "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.findings).toEqual([
      {
        file: path.join(dir, ".env"),
        line: 2,
        column: 9,
        prefix: "pk_live_",
        hint: live.slice(-4),
      },
      {
        file: path.join(dir, "src", "deep", "client.ts"),
        line: 3,
        column: CLIENT_LINE.indexOf(test) + 1,
        prefix: "pk_test_",
        hint: test.slice(-4),
      },
    ]);
    expect(out.skipped).toEqual([{ file: path.join(dir, "image.bin"), reason: "binary" }]);
    expect(r.stdout).not.toContain(live);
  });

  it("scans single files too", async () => {
    expect((await runScan([path.join(dir, ".env")])).code).toBe(1);
    expect((await runScan([path.join(dir, "README.md")])).code).toBe(0);
  });

  it("exits 1, 0 and 2 through the operator's entry (npm run keyward -- scan)", async () => {
    const found = await runCli(["scan", dir], {}, { script: CLI_ENTRY });
    expect(found.code).toBe(1);
    expect(found.stdout).toContain(`:2:9: Keyward key pk_live_…${live.slice(-4)}`);
    expect(found.stdout).not.toContain(live);
    const none = await runCli(["scan", clean], {}, { script: CLI_ENTRY });
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("no Keyward keys in 1 files scanned");
    expect((await runCli(["scan"], {}, { script: CLI_ENTRY })).code).toBe(2);
    expect(
      (await runCli(["scan", path.join(clean, "missing")], {}, { script: CLI_ENTRY })).code,
    ).toBe(2);
    expect((await runCli(["scan", "--nope", clean], {}, { script: CLI_ENTRY })).code).toBe(2);
  }, 400_000);
});
