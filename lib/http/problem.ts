// Any error -> an RFC 9457 problem document. KeywardErrors carry their own code, status and
// client-safe message; everything else is a 500 that says only its request id.
import { isDatabaseUnavailable } from "@/lib/db/errors";
import { ERROR_CODES, type ErrorCode, isKeywardError } from "@/lib/errors";
import { getLogger, scrubKeys } from "./logger";
import type { HttpResult } from "./types";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemType(code: ErrorCode): string {
  return `/docs#error-${code.toLowerCase().replaceAll("_", "-")}`;
}

export function problem(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extra: Record<string, unknown> = {},
): HttpResult {
  const { status, title } = ERROR_CODES[code];
  return {
    status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE },
    body: { type: problemType(code), title, status, detail, code, requestId, ...extra },
  };
}

export function errorToProblem(error: unknown, requestId: string, route: string): HttpResult {
  if (isKeywardError(error)) {
    const extra: Record<string, unknown> = { ...(error.extra ?? {}) };
    if (error.issues) extra.issues = error.issues;
    const result = problem(error.code, error.message, requestId, extra);
    if (error.status === 401) result.headers["www-authenticate"] = 'Bearer realm="keyward"';
    if (typeof error.extra?.retryAfter === "number") {
      result.headers["retry-after"] = String(error.extra.retryAfter);
    }
    if (error.status >= 500) logError(error, requestId, route);
    return result;
  }
  if (isDatabaseUnavailable(error)) {
    // The database is down or unreachable: not the client's fault and worth a retry. One log
    // line per 10 s, not a stack per request, while the outage lasts.
    logUnavailable(error, route);
    const result = problem(
      "DEPENDENCY_UNAVAILABLE",
      "The database is unavailable right now; retry shortly.",
      requestId,
    );
    result.headers["retry-after"] = "1";
    return result;
  }
  logError(error, requestId, route);
  return problem(
    "INTERNAL",
    `Something went wrong on our side. Quote request id ${requestId} when you report it.`,
    requestId,
  );
}

let lastUnavailableLog = 0;
function logUnavailable(error: unknown, route: string): void {
  const now = Date.now();
  if (now - lastUnavailableLog < 10_000) return;
  lastUnavailableLog = now;
  const e = error instanceof Error ? error : new Error(String(error));
  getLogger().warn(
    { route, err: { name: e.name, message: scrubKeys(e.message).slice(0, 500) } },
    "database unavailable",
  );
}

function logError(error: unknown, requestId: string, route: string): void {
  const e = error instanceof Error ? error : new Error(String(error));
  getLogger().error(
    {
      requestId,
      route,
      err: { name: e.name, message: scrubKeys(e.message), stack: scrubKeys(e.stack ?? "") },
    },
    "request failed",
  );
}
