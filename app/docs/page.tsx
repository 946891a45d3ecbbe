// /docs: the API reference, rendered by Scalar from the OpenAPI document itself, with curl and
// @keyward/sdk examples for every operation (lib/openapi/code-samples.ts) and the error codes
// table. Everything it needs is in the app's own bundle: it works with no internet.
import type { Metadata } from "next";
import { ERROR_CODES, type ErrorCode } from "@/lib/errors";
import { problemType } from "@/lib/http/problem";
import { getOpenApiDocument } from "@/lib/openapi";
import { withCodeSamples } from "@/lib/openapi/code-samples";
import { ApiReference } from "./api-reference";

export const metadata: Metadata = { title: "API reference" };
export const dynamic = "force-static";

function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, { status, title }]) =>
      `| \`${code}\` | ${status} | ${title} | \`${problemType(code as ErrorCode)}\` |`,
  );
  return [
    "## Error codes",
    "",
    "Every error is an RFC 9457 problem document (`application/problem+json`) with a stable `code`, its HTTP `status`, a `title`, a `detail` for people and the `requestId`. Branch on `code`, never on `detail`.",
    "",
    "| code | status | title | type |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

function documentForDocs() {
  const doc = getOpenApiDocument();
  const described = {
    ...doc,
    info: { ...doc.info, description: `${doc.info.description ?? ""}\n\n${errorTable()}` },
  };
  return withCodeSamples(described);
}

export default function DocsPage() {
  return <ApiReference document={documentForDocs() as unknown as Record<string, unknown>} />;
}
