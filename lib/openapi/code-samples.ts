// Request examples for /docs: each operation gets `x-codeSamples` (the Redoc/Scalar extension)
// in curl and in @keyward/sdk (an openapi-fetch client typed from this document), built from the
// operation itself: its path parameters, required query parameters and required body fields.

type Json = Record<string, unknown>;
type Doc = { paths?: Record<string, Record<string, unknown>>; components?: Json };

export interface CodeSample {
  lang: string;
  label: string;
  source: string;
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const BASE_URL = "https://keyward.example.com";
const UUID = "3f0c6b8e-1d2a-4c5b-9e7f-0a1b2c3d4e5f";

function resolve(doc: Doc, schema: unknown, depth = 0): Json {
  const s = (schema ?? {}) as Json;
  if (typeof s.$ref === "string" && depth < 8) {
    const name = s.$ref.split("/").pop() ?? "";
    const schemas = (doc.components?.schemas ?? {}) as Record<string, unknown>;
    return resolve(doc, schemas[name], depth + 1);
  }
  return s;
}

/** A small example value for a schema: its example, default or first enum value, else by type. */
export function exampleOf(doc: Doc, schema: unknown, name = "", depth = 0): unknown {
  const s = resolve(doc, schema);
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const branch = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(branch)) {
    const first = branch.find((b) => resolve(doc, b).type !== "null") ?? branch[0];
    return exampleOf(doc, first, name, depth + 1);
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  if (depth > 6) return null;
  switch (type) {
    case "object": {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = new Set((s.required as string[] | undefined) ?? []);
      const out: Json = {};
      for (const [k, v] of Object.entries(props)) {
        if (required.has(k)) out[k] = exampleOf(doc, v, k, depth + 1);
      }
      return out;
    }
    case "array": {
      const item = exampleOf(doc, s.items, name, depth + 1);
      return typeof s.minItems === "number" && s.minItems > 0 ? [item] : [];
    }
    case "integer":
    case "number": {
      const hint = NUMBER_HINTS[name] ?? 1;
      const min = typeof s.minimum === "number" ? s.minimum : hint;
      const max = typeof s.maximum === "number" ? s.maximum : hint;
      return Math.min(max, Math.max(min, hint));
    }
    case "boolean":
      return true;
    case "string":
      if (s.format === "uuid") return UUID;
      if (s.format === "date-time") return "2026-01-01T00:00:00.000Z";
      if (name === "key") return "pk_live_…";
      return name ? `my-${name.toLowerCase()}` : "string";
    default:
      return null;
  }
}

/** Plausible numbers for fields every example shows. */
const NUMBER_HINTS: Record<string, number> = { statusCode: 200, responseTimeMs: 42, tokens: 1200 };

/** A value as a JavaScript literal: keys unquoted where they can be, two-space indents. */
export function jsLiteral(value: unknown, pad = ""): string {
  const inner = `${pad}  `;
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return `[\n${value.map((v) => inner + jsLiteral(v, inner)).join(",\n")},\n${pad}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return "{}";
    const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
    return `{\n${entries.map(([k, v]) => `${inner}${key(k)}: ${jsLiteral(v, inner)}`).join(",\n")},\n${pad}}`;
  }
  return JSON.stringify(value);
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}

function samplesFor(doc: Doc, path: string, method: string, op: Json): CodeSample[] {
  const params = ((op.parameters ?? []) as Parameter[]).filter((p) => p && typeof p === "object");
  const pathParams: Json = {};
  const query: Json = {};
  for (const p of params) {
    if (p.in === "path") pathParams[p.name] = exampleOf(doc, p.schema, p.name);
    if (p.in === "query" && p.required) query[p.name] = exampleOf(doc, p.schema, p.name);
  }
  const content = ((op.requestBody as Json | undefined)?.content ?? {}) as Record<string, Json>;
  const bodySchema = content["application/json"]?.schema;
  let body = bodySchema === undefined ? undefined : exampleOf(doc, bodySchema);
  // A body of optional fields only: a required one shows its first field, an optional one none.
  if (body && typeof body === "object" && !Array.isArray(body) && !Object.keys(body).length) {
    const required = (op.requestBody as Json | undefined)?.required === true;
    const [first] = Object.entries((resolve(doc, bodySchema).properties ?? {}) as Json);
    body = required && first ? { [first[0]]: exampleOf(doc, first[1], first[0]) } : undefined;
  }
  const secured = Array.isArray(op.security) && op.security.length > 0;

  // curl
  let url = path.replace(/\{([^}]+)\}/g, (_, n: string) => String(pathParams[n] ?? n));
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  if (qs) url += `?${qs}`;
  const curl = [`curl -X ${method.toUpperCase()} "$KEYWARD_URL${url}"`];
  if (secured) curl.push(`-H "Authorization: Bearer $KEYWARD_API_KEY"`);
  if (body !== undefined) {
    curl.push(`-H "Content-Type: application/json"`);
    curl.push(`-d ${shellQuote(JSON.stringify(body))}`);
  }

  // @keyward/sdk (openapi-fetch: kw.GET/POST/PATCH/DELETE(path, { params, body }))
  const init: string[] = [];
  const p: string[] = [];
  if (Object.keys(pathParams).length) p.push(`path: ${jsLiteral(pathParams, "    ")}`);
  if (Object.keys(query).length) p.push(`query: ${jsLiteral(query, "    ")}`);
  if (p.length) init.push(`params: {\n    ${p.join(",\n    ")},\n  }`);
  if (body !== undefined) init.push(`body: ${jsLiteral(body, "  ")}`);
  const call = `kw.${method.toUpperCase()}("${path}"${init.length ? `, {\n  ${init.join(",\n  ")},\n}` : ""})`;
  const sdk = [
    `import { createKeywardClient } from "@keyward/sdk";`,
    "",
    `const kw = createKeywardClient({`,
    `  baseUrl: "${BASE_URL}",`,
    ...(secured ? ["  apiKey: process.env.KEYWARD_API_KEY,"] : []),
    "});",
    `const { data, error } = await ${call};`,
  ].join("\n");

  return [
    { lang: "shell", label: "curl", source: curl.join(" \\\n  ") },
    { lang: "typescript", label: "@keyward/sdk", source: sdk },
  ];
}

/** A copy of the document whose every operation carries curl and SDK samples. */
export function withCodeSamples<D extends object>(document: D): D {
  const doc = document as Doc;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const next: Record<string, unknown> = { ...item };
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (op) next[method] = { ...op, "x-codeSamples": samplesFor(doc, path, method, op) };
    }
    paths[path] = next;
  }
  return { ...document, paths };
}
