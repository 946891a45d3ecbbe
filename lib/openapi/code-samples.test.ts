// Every operation of the served document gets a curl and an @keyward/sdk example, built from its
// own path, parameters and body, and the examples' bodies pass the route's own body schema.
import { describe, expect, it } from "vitest";
import { API_ROUTES } from "@/lib/http/routes";
import { getOpenApiDocument } from "@/lib/openapi";
import { jsLiteral, withCodeSamples } from "./code-samples";

type Sample = { lang: string; label: string; source: string };
const doc = withCodeSamples(getOpenApiDocument()) as unknown as {
  paths: Record<string, Record<string, { "x-codeSamples"?: Sample[] }>>;
};

describe("withCodeSamples", () => {
  const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );

  it("gives every operation curl first, then the SDK call of that path and method", () => {
    expect(ops.length).toBeGreaterThan(5);
    for (const { path, method, op } of ops) {
      const samples = op["x-codeSamples"] ?? [];
      expect(samples.map((s) => s.label)).toEqual(["curl", "@keyward/sdk"]);
      const [curl, sdk] = samples as [Sample, Sample];
      expect(curl.source).toMatch(new RegExp(`^curl -X ${method.toUpperCase()} "\\$KEYWARD_URL`));
      expect(sdk.source).toContain(`kw.${method.toUpperCase()}("${path}"`);
      expect(sdk.source).toContain("createKeywardClient({");
      expect(sdk.source).toContain("const { data, error } = await");
    }
  });

  it("sends a body the route itself accepts", () => {
    for (const route of API_ROUTES) {
      if (!route.body) continue;
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      const curl = op?.["x-codeSamples"]?.[0]?.source ?? "";
      const data = /-d '(.*)'$/s.exec(curl)?.[1];
      if (data === undefined) {
        expect(route.bodyOptional, `${route.method} ${route.path} shows no body`).toBe(true);
        continue;
      }
      const parsed = route.body.safeParse(JSON.parse(data.replaceAll("'\\''", "'")));
      expect(parsed.success, `${route.method} ${route.path}: ${data}`).toBe(true);
    }
  });

  it("authenticated operations carry the key; verify needs none", () => {
    const verify = doc.paths["/api/v1/keys/verify"]?.post?.["x-codeSamples"] ?? [];
    expect(verify.map((s) => s.source).join("\n")).not.toContain("KEYWARD_API_KEY");
    const list = doc.paths["/api/v1/keys"]?.get?.["x-codeSamples"] ?? [];
    expect(list[0]?.source).toContain('-H "Authorization: Bearer $KEYWARD_API_KEY"');
    expect(list[1]?.source).toContain("apiKey: process.env.KEYWARD_API_KEY");
  });

  it("writes JavaScript literals", () => {
    expect(jsLiteral({ a: 1, "b-c": ["x"], d: {} })).toBe(
      '{\n  a: 1,\n  "b-c": [\n    "x",\n  ],\n  d: {},\n}',
    );
  });
});
