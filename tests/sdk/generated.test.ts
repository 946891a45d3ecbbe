// The SDK's API types are generated from the OpenAPI document (packages/sdk/scripts/generate.ts):
// this fails when the committed openapi.json or src/generated/api.ts no longer match what the
// routes produce (fix: `npm run generate -w packages/sdk`, or the build). And the built package
// loads as ESM and as CommonJS without Next.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { render } from "@/packages/sdk/scripts/generate";
import { root } from "@/tests/helpers/server";
import { ensureSdkBuilt } from "./_setup";

const sdk = path.join(root, "packages/sdk");

describe("@keyward/sdk generated types", () => {
  it("match the OpenAPI document the routes produce (regenerate when this fails)", async () => {
    const fresh = await render();
    const stale = "stale: run `npm run generate -w packages/sdk` and commit the result";
    expect(readFileSync(path.join(sdk, "openapi.json"), "utf8"), stale).toBe(fresh.document);
    expect(readFileSync(path.join(sdk, "src/generated/api.ts"), "utf8"), stale).toBe(fresh.types);
    // Every route of the document is typed.
    const doc = JSON.parse(fresh.document) as { paths: Record<string, unknown> };
    for (const p of Object.keys(doc.paths)) expect(fresh.types).toContain(`"${p}": {`);
  });
});

describe("@keyward/sdk build", () => {
  it("loads as ESM and CommonJS, with types, and needs no Next", async () => {
    ensureSdkBuilt();
    const esm = await import(pathToFileURL(path.join(sdk, "dist/index.js")).href);
    const cjs = createRequire(import.meta.url)(path.join(sdk, "dist/index.cjs"));
    for (const mod of [esm, cjs]) {
      expect(typeof mod.createKeyward).toBe("function");
      expect(typeof mod.createKeywardClient).toBe("function");
      expect(typeof mod.getKeyward).toBe("function");
    }
    expect(readFileSync(path.join(sdk, "dist/index.d.ts"), "utf8")).toContain("createKeyward");
    for (const f of ["dist/index.js", "dist/index.cjs"]) {
      expect(readFileSync(path.join(sdk, f), "utf8")).not.toMatch(/from ["']next|require\("next/);
    }
    const pkg = JSON.parse(readFileSync(path.join(sdk, "package.json"), "utf8"));
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(["openapi-fetch"]);
  });
});
