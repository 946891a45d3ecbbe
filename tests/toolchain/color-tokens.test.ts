// Colours come from the tokens in app/globals.css only: Tailwind's default palette is switched
// off there, so a raw class (bg-blue-600, dark:text-gray-400) would silently produce no CSS, and
// a hex value in a component would skip the light/dark pair that e2e/a11y.spec.ts checks.
// /docs is left out: it is replaced by its own reference page.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const PALETTE =
  "slate|gray|zinc|neutral|stone|red|orange|amber|yellow|lime|green|emerald|teal|cyan|sky|blue|indigo|violet|purple|fuchsia|pink|rose";
const RAW_CLASS = new RegExp(
  `(?<![\\w-])(?:[a-z-]+:)*(?:bg|text|border(?:-[trblxy])?|ring|outline|fill|stroke|divide|from|via|to|decoration|accent|caret|shadow|placeholder)-(?:(?:${PALETTE})-\\d{2,3}|white|black)(?:/\\d+)?(?![\\w-])`,
  "g",
);
const HEX = /["'`]#[0-9a-fA-F]{3,8}["'`]/g;

function files(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith(".test.ts"))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith(path.join("app", "docs")));
}

describe("colour tokens", () => {
  it("app/ and components/ use no raw palette class and no hex colour", () => {
    const found: string[] = [];
    for (const file of [...files("app"), ...files("components")]) {
      const text = readFileSync(path.join(root, file), "utf8");
      for (const m of text.matchAll(RAW_CLASS)) found.push(`${file}: ${m[0]}`);
      for (const m of text.matchAll(HEX)) found.push(`${file}: ${m[0]}`);
    }
    expect(found).toEqual([]);
  });

  it("the pattern catches what it is meant to", () => {
    const sample = `className="bg-blue-600 dark:text-gray-400 hover:bg-white/10 text-primary bg-muted/40"`;
    expect([...sample.matchAll(RAW_CLASS)].map((m) => m[0])).toEqual([
      "bg-blue-600",
      "dark:text-gray-400",
      "hover:bg-white/10",
    ]);
  });
});
