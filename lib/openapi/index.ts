// The OpenAPI 3.1 document, generated from the very route specs and zod schemas that parse
// requests and filter responses: a field is described once.
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
} from "@asteasolutions/zod-to-openapi";
import { ERROR_CODES, type ErrorCode } from "@/lib/errors";
import { problemType } from "@/lib/http/problem";
import { type AnyRoute, defineRoute } from "@/lib/http/route";
import { API_ROUTES } from "@/lib/http/routes";
import { ProblemSchema } from "@/lib/validation/common";

const PROBLEM = "application/problem+json";

function errorResponse(codes: ErrorCode[]): ResponseConfig {
  return {
    description: codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].title}`).join("; "),
    content: { [PROBLEM]: { schema: ProblemSchema } },
  };
}

const rateLimitHeaders = {
  "RateLimit-Limit": {
    description: "Requests allowed per minute for this key.",
    schema: { type: "integer" as const },
  },
  "RateLimit-Remaining": {
    description: "Requests left in the window.",
    schema: { type: "integer" as const },
  },
  "RateLimit-Reset": {
    description: "Seconds until a request is freed.",
    schema: { type: "integer" as const },
  },
};

function errorsOf(route: AnyRoute): Record<number, ResponseConfig> {
  const byStatus = new Map<number, ErrorCode[]>();
  const add = (...codes: ErrorCode[]) => {
    for (const c of codes) {
      const s = ERROR_CODES[c].status;
      byStatus.set(s, [...(byStatus.get(s) ?? []), c]);
    }
  };
  add("BAD_REQUEST");
  if (route.auth === "key") {
    add("UNAUTHORIZED", "INVALID_FORMAT", "KEY_NOT_FOUND", "KEY_REVOKED", "KEY_EXPIRED");
    add("INSUFFICIENT_SCOPE", "ORG_INACTIVE", "RATE_LIMITED", "QUOTA_EXCEEDED");
    // A service credential on a route that does not take one.
    if (!route.serviceScopes) add("FORBIDDEN");
  }
  if (route.path === "/api/v1/keys/verify") add("RATE_LIMITED");
  if (route.path === "/api/v1/usage/events") add("UNAVAILABLE");
  if (route.params || route.query) add("NOT_FOUND");
  if (route.method === "POST" && route.path === "/api/v1/keys")
    add("FORBIDDEN", "KEY_LIMIT_REACHED", "ORG_INACTIVE");
  if (route.resource) add("CONFLICT");
  if (route.body) add("INVALID_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE");
  if (route.body || route.query) add("VALIDATION_FAILED");
  add("INTERNAL");
  const out: Record<number, ResponseConfig> = {};
  for (const [status, codes] of byStatus) {
    const r = errorResponse([...new Set(codes)]);
    if (status === 429) {
      r.headers = {
        ...rateLimitHeaders,
        "Retry-After": { description: "Seconds to wait.", schema: { type: "integer" } },
      };
    }
    out[status] = r;
  }
  return out;
}

function buildDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "bearerKey", {
    type: "http",
    scheme: "bearer",
    description:
      "`Authorization: Bearer pk_live_…` (or `pk_test_…`); a service credential `ksvc_…` on POST /api/v1/usage/events only. Never in the URL.",
  });
  registry.registerComponent("securitySchemes", "apiKeyHeader", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  for (const route of [...API_ROUTES, openApiRoute] as readonly AnyRoute[]) {
    const success = route.status ?? 200;
    const okHeaders =
      route.auth === "key" || route.path === "/api/v1/keys/verify" ? rateLimitHeaders : undefined;
    registry.registerPath({
      method: route.method.toLowerCase() as "get" | "post" | "patch" | "delete",
      path: route.path,
      summary: route.summary,
      description:
        [
          route.description,
          route.scopes?.length
            ? `Needs scope: ${route.scopes.map((s) => `\`${s}\``).join(", ")}.`
            : undefined,
          route.serviceScopes?.length
            ? `Or a service credential with scope: ${route.serviceScopes.map((s) => `\`${s}\``).join(", ")}.`
            : undefined,
        ]
          .filter(Boolean)
          .join("\n\n") || undefined,
      tags: [
        route.path.includes("/usage")
          ? "Usage"
          : route.auth === "key" || route.path.includes("/keys")
            ? "Keys"
            : "System",
      ],
      security: route.auth === "key" ? [{ bearerKey: [] }, { apiKeyHeader: [] }] : [],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body
          ? {
              body: {
                required: !route.bodyOptional,
                content: { "application/json": { schema: route.documentedBody ?? route.body } },
              },
            }
          : {}),
      },
      responses: {
        [success]: {
          description: success === 201 ? "Created" : success === 202 ? "Accepted" : "OK",
          ...(okHeaders ? { headers: okHeaders } : {}),
          content: {
            "application/json": {
              schema: route.output ?? { type: "object", additionalProperties: true },
            },
          },
        },
        ...errorsOf(route),
      },
    });
  }
  registry.register("Problem", ProblemSchema);
  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Keyward API",
      version: "1.0.0",
      description:
        "API keys for your own API: verify, manage, rotate and meter. Errors are RFC 9457 problem documents with a stable `code`; see the error table at /docs.",
    },
    servers: [{ url: "/" }],
  });
  return {
    ...doc,
    "x-error-codes": Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, v]) => [
        code,
        { ...v, type: problemType(code as ErrorCode) },
      ]),
    ),
  };
}

let cached: ReturnType<typeof buildDocument> | undefined;

export function getOpenApiDocument() {
  cached ??= buildDocument();
  return cached;
}

export const openApiRoute = defineRoute({
  path: "/api/v1/openapi.json",
  method: "GET",
  auth: "none",
  summary: "This document",
  handler: async () => getOpenApiDocument(),
});
