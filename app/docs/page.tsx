// /docs: the API reference, rendered on the server from the OpenAPI document itself. No client
// JavaScript and no CDN: everything this page needs is served by the app.
import type { Metadata } from "next";
import { ERROR_CODES } from "@/lib/errors";
import { problemType } from "@/lib/http/problem";
import { getOpenApiDocument } from "@/lib/openapi";

export const metadata: Metadata = { title: "API reference" };
export const dynamic = "force-static";

type Json = Record<string, unknown>;
type Doc = ReturnType<typeof getOpenApiDocument>;

function resolve(doc: Doc, schema: unknown): Json {
  const s = (schema ?? {}) as Json;
  if (typeof s.$ref === "string") {
    const name = s.$ref.split("/").pop()!;
    return resolve(doc, (doc.components?.schemas as Json | undefined)?.[name]);
  }
  return s;
}

function typeOf(doc: Doc, schema: unknown): string {
  const raw = (schema ?? {}) as Json;
  if (typeof raw.$ref === "string") return raw.$ref.split("/").pop()!;
  const s = resolve(doc, raw);
  if (Array.isArray(s.anyOf)) return (s.anyOf as unknown[]).map((x) => typeOf(doc, x)).join(" | ");
  if (Array.isArray(s.allOf)) return (s.allOf as unknown[]).map((x) => typeOf(doc, x)).join(" & ");
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  const t = Array.isArray(s.type) ? (s.type as string[]).join(" | ") : String(s.type ?? "any");
  if (t === "array") return `${typeOf(doc, s.items)}[]`;
  if (s.format) return `${t} (${String(s.format)})`;
  return t;
}

function constraints(doc: Doc, schema: unknown): string {
  const s = resolve(doc, schema);
  const parts: string[] = [];
  for (const k of [
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "pattern",
  ]) {
    if (s[k] !== undefined) parts.push(`${k} ${String(s[k])}`);
  }
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(", ");
}

function Fields({ doc, schema }: { doc: Doc; schema: unknown }) {
  const s = resolve(doc, schema);
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  if (Object.keys(props).length === 0)
    return <p className="text-sm text-zinc-500">{typeOf(doc, schema)}</p>;
  return (
    <table className="w-full text-left text-sm">
      <thead className="text-zinc-500">
        <tr>
          <th className="py-1 pr-4 font-medium">field</th>
          <th className="py-1 pr-4 font-medium">type</th>
          <th className="py-1 font-medium">notes</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(props).map(([name, p]) => (
          <tr key={name} className="border-t border-zinc-200 align-top dark:border-zinc-800">
            <td className="py-1 pr-4 font-mono">
              {name}
              {required.has(name) ? "" : "?"}
            </td>
            <td className="py-1 pr-4 font-mono text-xs">{typeOf(doc, p)}</td>
            <td className="py-1 text-zinc-600 dark:text-zinc-400">
              {[String(resolve(doc, p).description ?? p.description ?? ""), constraints(doc, p)]
                .filter(Boolean)
                .join(" · ")}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const METHOD_COLOR: Record<string, string> = {
  get: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-200",
  post: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
  patch: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-200",
  delete: "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-200",
};

export default function DocsPage() {
  const doc = getOpenApiDocument();
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Json>).map(([method, op]) => ({ path, method, op })),
  );
  return (
    <main className="mx-auto max-w-4xl px-6 py-10">
      <h1 className="text-3xl font-semibold">{doc.info.title}</h1>
      <p className="mt-2 text-zinc-600 dark:text-zinc-400">{doc.info.description}</p>
      <p className="mt-4 text-sm">
        Authenticate with <code className="font-mono">Authorization: Bearer pk_live_…</code> or{" "}
        <code className="font-mono">X-API-Key</code>; never in the URL. The machine-readable
        document is at{" "}
        <a className="underline" href="/api/v1/openapi.json">
          /api/v1/openapi.json
        </a>
        .
      </p>
      <nav className="mt-6 text-sm">
        <ul className="grid gap-1 sm:grid-cols-2">
          {operations.map(({ path, method }) => (
            <li key={`${method} ${path}`}>
              <a
                className="hover:underline"
                href={`#${method}-${path.replace(/[^a-z0-9]+/gi, "-")}`}
              >
                <span className="font-mono uppercase">{method}</span> {path}
              </a>
            </li>
          ))}
          <li>
            <a className="hover:underline" href="#errors">
              Error codes
            </a>
          </li>
        </ul>
      </nav>
      {operations.map(({ path, method, op }) => {
        const params = (op.parameters as Json[] | undefined) ?? [];
        const body = (op.requestBody as Json | undefined)?.content as
          | Record<string, Json>
          | undefined;
        const responses = (op.responses ?? {}) as Record<string, Json>;
        return (
          <section
            key={`${method} ${path}`}
            id={`${method}-${path.replace(/[^a-z0-9]+/gi, "-")}`}
            className="mt-10 border-t border-zinc-200 pt-6 dark:border-zinc-800"
          >
            <h2 className="flex items-center gap-3 text-lg font-semibold">
              <span
                className={`rounded px-2 py-0.5 font-mono text-xs uppercase ${METHOD_COLOR[method] ?? ""}`}
              >
                {method}
              </span>
              <span className="font-mono">{path}</span>
            </h2>
            <p className="mt-1 font-medium">{String(op.summary ?? "")}</p>
            {op.description ? (
              <p className="mt-1 whitespace-pre-line text-sm text-zinc-600 dark:text-zinc-400">
                {String(op.description)}
              </p>
            ) : null}
            {(op.security as unknown[] | undefined)?.length ? (
              <p className="mt-1 text-xs text-zinc-500">Needs an API key.</p>
            ) : (
              <p className="mt-1 text-xs text-zinc-500">No key needed.</p>
            )}
            {params.length > 0 && (
              <>
                <h3 className="mt-4 text-sm font-semibold">Parameters</h3>
                <Fields
                  doc={doc}
                  schema={{
                    type: "object",
                    properties: Object.fromEntries(
                      params.map((p) => [`${String(p.name)} (${String(p.in)})`, p.schema as Json]),
                    ),
                    required: params
                      .filter((p) => p.required)
                      .map((p) => `${String(p.name)} (${String(p.in)})`),
                  }}
                />
              </>
            )}
            {body?.["application/json"] && (
              <>
                <h3 className="mt-4 text-sm font-semibold">Body (application/json)</h3>
                <Fields doc={doc} schema={body["application/json"].schema} />
              </>
            )}
            <h3 className="mt-4 text-sm font-semibold">Responses</h3>
            <ul className="mt-1 space-y-2 text-sm">
              {Object.entries(responses).map(([status, r]) => {
                const content = r.content as Record<string, Json> | undefined;
                const json = content?.["application/json"];
                return (
                  <li key={status}>
                    <span className="font-mono font-semibold">{status}</span>{" "}
                    <span className="text-zinc-600 dark:text-zinc-400">
                      {String(r.description ?? "")}
                    </span>
                    {json && Number(status) < 300 ? (
                      <div className="mt-1 pl-6">
                        <Fields doc={doc} schema={json.schema} />
                      </div>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
      <section id="errors" className="mt-12 border-t border-zinc-200 pt-6 dark:border-zinc-800">
        <h2 className="text-lg font-semibold">Error codes</h2>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Every error is an <code className="font-mono">application/problem+json</code> document
          with <code className="font-mono">type</code>, <code className="font-mono">title</code>,{" "}
          <code className="font-mono">status</code>, <code className="font-mono">detail</code>, a
          stable <code className="font-mono">code</code> and a{" "}
          <code className="font-mono">requestId</code>; 422 adds{" "}
          <code className="font-mono">issues</code> with field paths; 429 adds{" "}
          <code className="font-mono">Retry-After</code> (seconds).
        </p>
        <table className="mt-4 w-full text-left text-sm">
          <tbody>
            {Object.entries(ERROR_CODES).map(([code, v]) => (
              <tr
                key={code}
                id={problemType(code as keyof typeof ERROR_CODES).split("#")[1]}
                className="border-t border-zinc-200 dark:border-zinc-800"
              >
                <td className="py-1 pr-4 font-mono">{code}</td>
                <td className="py-1 pr-4 font-mono">{v.status}</td>
                <td className="py-1">{v.title}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
