// The OpenAPI 3.1 document, generated from the very route specs and zod schemas that parse
// requests and filter responses: a field is described once.
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
} from "@asteasolutions/zod-to-openapi";
import { ERROR_CODES, type ErrorCode } from "@/lib/errors";
import { problemType } from "@/lib/http/problem";
import { RATE_LIMIT_HEADER_DOCS, RETRY_AFTER_HEADER_DOC } from "@/lib/http/ratelimit-headers";
import { type AnyRoute, defineRoute, type RouteTag } from "@/lib/http/route";
import { API_ROUTES } from "@/lib/http/routes";
import { WEBHOOK_EVENT_TYPES } from "@/lib/services/webhooks/events";
import { ProblemSchema } from "@/lib/validation/common";
import { webhookEnvelopeSchema } from "@/lib/validation/webhook-events";

const PROBLEM = "application/problem+json";

function errorResponse(codes: ErrorCode[]): ResponseConfig {
  return {
    description: codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].title}`).join("; "),
    content: { [PROBLEM]: { schema: ProblemSchema } },
  };
}

/**
 * Every error a route can answer: those its shape implies (the key check, the body, the query,
 * path parameters, a key in the URL, a bug) and those its spec declares (`errors`).
 */
function errorCodesOf(route: AnyRoute): ErrorCode[] {
  const codes: ErrorCode[] = ["BAD_REQUEST"];
  if (route.auth === "key") {
    codes.push("UNAUTHORIZED", "INVALID_FORMAT", "KEY_NOT_FOUND", "KEY_REVOKED", "KEY_EXPIRED");
    codes.push("INSUFFICIENT_SCOPE", "ORG_INACTIVE", "RATE_LIMITED", "QUOTA_EXCEEDED");
    // A service credential on a route that does not take one.
    if (!route.serviceScopes) codes.push("FORBIDDEN");
  }
  if (route.params) codes.push("NOT_FOUND");
  if (route.body) codes.push("INVALID_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE");
  if (route.body || route.query) codes.push("VALIDATION_FAILED");
  codes.push(...(route.errors ?? []), "INTERNAL");
  return [...new Set(codes)];
}

function errorResponses(codes: ErrorCode[]): Record<number, ResponseConfig> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) {
    const s = ERROR_CODES[c].status;
    byStatus.set(s, [...(byStatus.get(s) ?? []), c]);
  }
  const out: Record<number, ResponseConfig> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const r = errorResponse(list);
    if (status === 429) r.headers = { ...RATE_LIMIT_HEADER_DOCS, ...RETRY_AFTER_HEADER_DOC };
    out[status] = r;
  }
  return out;
}

/** The operations' groups, in the order readers meet them. */
const TAGS: Record<RouteTag, string> = {
  Keys: "Verify keys, and manage an organization's keys with a key of its own.",
  Usage: "Usage reports, and usage events your service reports for its own API.",
  Webhooks:
    "Webhook endpoints that receive signed events (Standard Webhooks), their signing secrets and deliveries; and, under `webhooks`, the events Keyward sends them.",
  System: "Health and this document; no key needed.",
};

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
    const errors = errorCodesOf(route);
    // A route that can answer 429 tells every caller where it stands.
    const okHeaders = errors.includes("RATE_LIMITED") ? RATE_LIMIT_HEADER_DOCS : undefined;
    registry.registerPath({
      method: route.method.toLowerCase() as "get" | "post" | "patch" | "delete",
      path: route.path,
      operationId: route.operationId,
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
      tags: [route.tag],
      security: route.auth === "key" ? [{ bearerKey: [] }, { apiKeyHeader: [] }] : [],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body || route.documentedBody
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
        ...errorResponses(errors),
      },
    });
  }
  registry.register("Problem", ProblemSchema);
  registerWebhooks(registry);
  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Keyward API",
      version: "1.0.0",
      description:
        "API keys for your own API: verify, manage, rotate and meter. Errors are RFC 9457 problem documents with a stable `code`; see the error table at /docs.",
    },
    servers: [{ url: "/", description: "This Keyward server." }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
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

/** One entry per event type in the document's top-level `webhooks`: what a receiver is sent. */
function registerWebhooks(registry: OpenAPIRegistry): void {
  for (const type of WEBHOOK_EVENT_TYPES) {
    registry.registerWebhook({
      method: "post",
      path: type,
      operationId: `webhook_${type.replace(".", "_")}`,
      summary: `The ${type} event`,
      description:
        "Signed per the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`); see docs/webhooks.md. Never carries a key's plaintext or hash.",
      tags: ["Webhooks"],
      // Keyward calls the receiver: no key; the receiver checks the signature instead.
      security: [],
      request: {
        body: {
          required: true,
          content: { "application/json": { schema: webhookEnvelopeSchema(type) } },
        },
      },
      responses: {
        200: { description: "Any 2xx answer acknowledges the event; anything else is retried." },
      },
    });
  }
}

let cached: ReturnType<typeof buildDocument> | undefined;

export function getOpenApiDocument() {
  cached ??= buildDocument();
  return cached;
}

export const openApiRoute = defineRoute({
  path: "/api/v1/openapi.json",
  method: "GET",
  operationId: "getOpenApiDocument",
  tag: "System",
  auth: "none",
  summary: "This document",
  handler: async () => getOpenApiDocument(),
});
