// Adapter: a fetch Request (what a Next route handler receives) -> runRoute -> a fetch Response.
// Web standard types only, so lib/ stays free of next/*.

import { clientAddress } from "@/lib/auth/client-address";
import { getDb } from "@/lib/db";
import { readBodyWithin } from "./body-limit";
import { type AnyRoute, type RunDeps, runRoute } from "./route";
import type { HttpRequest, HttpResult } from "./types";

/** The body as UTF-8 text, at most `limit` bytes (body-limit.ts counts it as it streams). */
async function readLimited(request: Request, limit: number): Promise<string> {
  const bytes = await readBodyWithin(request, limit);
  return bytes ? new TextDecoder("utf-8").decode(bytes) : "";
}

export function fromFetchRequest(request: Request): HttpRequest {
  return {
    method: request.method,
    url: new URL(request.url),
    headers: request.headers,
    ip: clientAddress(request.headers),
    readBody: (limit) => readLimited(request, limit),
  };
}

export function toFetchResponse(result: HttpResult): Response {
  const body =
    result.body === null || result.body === undefined || result.status === 204
      ? null
      : JSON.stringify(result.body);
  return new Response(body, { status: result.status, headers: result.headers });
}

type Params = Record<string, string | string[] | undefined>;

/** `export const GET = toFetchHandler(route)` in a Next route file. */
export function toFetchHandler(route: AnyRoute, deps: RunDeps = { db: getDb }) {
  return async (request: Request, context?: { params?: Promise<Params> }): Promise<Response> => {
    const raw = (await context?.params) ?? {};
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === "string") params[k] = v;
    return toFetchResponse(await runRoute(route, fromFetchRequest(request), params, deps));
  };
}
