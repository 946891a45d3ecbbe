// The route wrapper: a short, fixed list of options (auth, scopes, body/query/params schemas,
// output schema, body limit), and one core `runRoute` that turns an HttpRequest into an
// HttpResult. Next route handlers and a plain node:http server both call it through adapters.
import { randomBytes } from "node:crypto";
import type { z } from "zod";
import type { Db } from "@/lib/db";
import { type ErrorCode, KeywardError, notFound } from "@/lib/errors";
import { observeRequest } from "@/lib/metrics/registry";
import type { ServiceCaller } from "@/lib/services/service-credentials";
import { toFieldIssues } from "@/lib/validation/issues";
import { isCleanText, UNSAFE_TEXT_MESSAGE } from "@/lib/validation/text";
import { authenticate, authenticateService, rejectKeyInUrl } from "./auth";
import { meter } from "./metering";
import { errorToProblem } from "./problem";
import type { AuthContext, HttpRequest, HttpResult } from "./types";

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** "key": a valid API key is required (and counted); "none": anyone. */
export type AuthMode = "key" | "none";

interface BaseContext<B, Q, P> {
  request: HttpRequest;
  requestId: string;
  db: Db;
  body: B;
  query: Q;
  params: P;
  /** Extra response headers (lowercase names). */
  headers: Record<string, string>;
  /** Response status when not the route's default. */
  status?: number;
  /**
   * Whose usage this call is: the presented key once it is found (also when it is then refused),
   * or, for verify, the key being verified.
   */
  meterAs?: { apiKeyId: string; organizationId: string };
  /** Whether the call spent monthly quota, when its status does not say (verify sets it). */
  billable?: boolean;
}

/** What a handler gets; `auth` exists only on routes that need a key (typed absent elsewhere). */
export type RouteContext<B, Q, P, A extends AuthMode = AuthMode> = BaseContext<B, Q, P> &
  (A extends "key"
    ? {
        /** The calling key; unset when a service credential called (`service` is set instead). */
        auth: AuthContext;
        /** The calling service credential, on routes with `serviceScopes` only. */
        service?: ServiceCaller;
      }
    : { auth?: never; service?: never });

/** Groups operations in the OpenAPI document. */
export type RouteTag = "Keys" | "Usage" | "Webhooks" | "System";

type Schema = z.ZodType;
type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<
  B extends Schema | undefined,
  Q extends Schema | undefined,
  P extends Schema | undefined,
  O extends Schema | undefined,
  A extends AuthMode = AuthMode,
> {
  /** The route as the OpenAPI document and the usage table name it, e.g. `/api/v1/keys/{id}`. */
  path: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** For the OpenAPI document (and the methods of generated clients): camelCase, stable. */
  operationId: string;
  tag: RouteTag;
  /** For the OpenAPI document. */
  summary: string;
  description?: string;
  /**
   * Errors of this route beyond those its shape implies (the OpenAPI builder adds the key
   * check's for `auth: "key"`, the body's, query's and path parameters', BAD_REQUEST and
   * INTERNAL). A route that lists RATE_LIMITED documents the RateLimit-* headers too.
   */
  errors?: ErrorCode[];
  /** What a bad path parameter names in its 404 ("key"), so it reads like any missing one. */
  resource?: string;
  auth: A;
  scopes?: string[];
  /**
   * A service credential (`ksvc_…`, PRODUCT.md section 13) holding these scopes may call this
   * route instead of a key (then `ctx.service` is set and `ctx.auth` is not). Every other route
   * refuses service credentials.
   */
  serviceScopes?: string[];
  body?: B;
  /**
   * What the OpenAPI document shows for the body when `body` parses more loosely on purpose
   * (usage events: the list is parsed, then each event is checked on its own). Default: `body`.
   */
  documentedBody?: Schema;
  /** An empty body counts as `{}` (for bodies whose fields are all optional). */
  bodyOptional?: boolean;
  bodyLimit?: number;
  query?: Q;
  params?: P;
  /** Filters what leaves the server: unknown fields are stripped. */
  output?: O;
  status?: number;
  handler(
    ctx: RouteContext<Infer<B>, Infer<Q>, Infer<P>, A>,
  ): Promise<O extends z.ZodType ? z.input<O> : unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: a route of any shape
export type AnyRoute = RouteSpec<any, any, any, any, any>;

export function defineRoute<
  A extends AuthMode,
  B extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  P extends Schema | undefined = undefined,
  O extends Schema | undefined = undefined,
>(spec: RouteSpec<B, Q, P, O, A>): RouteSpec<B, Q, P, O, A> {
  return spec;
}

export interface RunDeps {
  db: () => Promise<Db>;
  now?: () => number;
}

// Request ids come from a pool of random bytes filled 4 KiB at a time: randomBytes(12) per
// request cost about 3 us of verify's hot path (bench/verify-costs.ts).
const ID_BYTES = 12;
const POOL_SIZE = 4096 - (4096 % ID_BYTES);
let idPool: Buffer = Buffer.alloc(0);
let idOffset = POOL_SIZE;

export function newRequestId(): string {
  if (idOffset >= POOL_SIZE) {
    idPool = randomBytes(POOL_SIZE);
    idOffset = 0;
  }
  const id = idPool.toString("base64url", idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return `req_${id}`;
}

function parseWith<S extends Schema>(schema: S, input: unknown, where: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new KeywardError(
    "VALIDATION_FAILED",
    `The request ${where} has invalid fields; see issues.`,
    { issues: toFieldIssues(r.error, where === "body" ? undefined : where) },
  );
}

// A query string is single-line text whatever the route's schema says of a parameter (some
// schemas are owned elsewhere), so a NUL or control character never reaches a query.
function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const unsafe = new Set<string>();
  for (const [k, v] of url.searchParams) {
    if (!isCleanText(v) || !isCleanText(k)) unsafe.add(isCleanText(k) ? `query.${k}` : "query");
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  if (unsafe.size) {
    throw new KeywardError(
      "VALIDATION_FAILED",
      "The request query has invalid fields; see issues.",
      {
        issues: [...unsafe].slice(0, 50).map((path) => ({ path, message: UNSAFE_TEXT_MESSAGE })),
      },
    );
  }
  return out;
}

async function readJson(route: AnyRoute, request: HttpRequest): Promise<unknown> {
  const limit = route.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) {
    throw new KeywardError("PAYLOAD_TOO_LARGE", `The body may be at most ${limit} bytes.`);
  }
  const text = await request.readBody(limit);
  if (text.trim() === "") {
    if (route.bodyOptional) return {};
    throw new KeywardError("BAD_REQUEST", "This request needs a JSON body.");
  }
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new KeywardError(
      "UNSUPPORTED_MEDIA_TYPE",
      "Send the body as JSON with Content-Type: application/json.",
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new KeywardError("INVALID_JSON", "The body is not valid JSON.");
  }
}

/** The whole request: auth, parse, handler, output filter, errors, headers, metering. */
export async function runRoute(
  route: AnyRoute,
  request: HttpRequest,
  rawParams: Record<string, string>,
  deps: RunDeps,
): Promise<HttpResult> {
  const now = deps.now ?? Date.now;
  const started = performance.now();
  const requestId = newRequestId();
  const headers: Record<string, string> = {};
  const ctx = { request, requestId, headers } as BaseContext<unknown, unknown, unknown> & {
    auth?: AuthContext;
    service?: ServiceCaller;
  };
  let result: HttpResult;
  try {
    rejectKeyInUrl(request.url);
    ctx.db = await deps.db();
    if (route.auth === "key" && route.serviceScopes) {
      const service = await authenticateService(ctx.db, request, route.serviceScopes, headers, now);
      if (service) ctx.service = service;
    }
    if (route.auth === "key" && !ctx.service) {
      // A call by a known key is metered to it even when refused (revoked, scope, 429...).
      ctx.auth = await authenticate(
        ctx.db,
        request,
        route.scopes ?? [],
        route.path,
        headers,
        now,
        (k) => {
          ctx.meterAs ??= { apiKeyId: k.id, organizationId: k.organizationId };
        },
      );
    }
    if (route.params) {
      const p = route.params.safeParse(rawParams);
      // A malformed id names no resource: the same 404 as a missing or another organization's one.
      if (!p.success) throw notFound(route.resource ?? "resource");
      ctx.params = p.data;
    } else {
      ctx.params = rawParams;
    }
    ctx.query = route.query ? parseWith(route.query, queryObject(request.url), "query") : undefined;
    if (route.body) {
      ctx.body = parseWith(route.body, await readJson(route, request), "body");
    }
    // `auth` is set exactly when the route needs a key, as RouteContext types it.
    const data = await route.handler(ctx as Parameters<AnyRoute["handler"]>[0]);
    const status = ctx.status ?? route.status ?? 200;
    const body = route.output ? route.output.parse(data) : data;
    result = {
      status,
      headers: status === 204 ? {} : { "content-type": "application/json" },
      body: status === 204 ? null : body,
    };
  } catch (error) {
    result = errorToProblem(error, requestId, route.path);
  }
  // Into the context's own object, in the order a spread would give: V8 copies a spread of two
  // header objects plus literals through a slow path (about 7 us a request, measured on Node 20).
  Object.assign(headers, result.headers);
  headers["x-request-id"] = requestId;
  headers["cache-control"] = "no-store";
  headers["x-content-type-options"] = "nosniff";
  result.headers = headers;
  observeRequest(route, result, started);
  // Set by authenticate's onKey for every call whose key was found, by verify for its key.
  const billed = ctx.meterAs;
  if (billed) {
    meter({
      apiKeyId: billed.apiKeyId,
      organizationId: billed.organizationId,
      endpoint: route.path,
      method: route.method,
      statusCode: result.status,
      responseTimeMs: Math.round(performance.now() - started),
      ipAddress: request.ip,
      userAgent: request.headers.get("user-agent")?.slice(0, 256) ?? null,
      errorCode:
        result.status >= 400 ? String((result.body as { code?: string } | null)?.code ?? "") : null,
      billable: result.status < 400 ? ctx.billable : undefined,
    });
  }
  return result;
}
