// Adapter: a fetch Request (what a Next route handler receives) -> runRoute -> a fetch Response.
// Web standard types only, so lib/ stays free of next/*.

import { clientAddress } from "@/lib/auth/client-address";
import { getDb } from "@/lib/db";
import { KeywardError } from "@/lib/errors";
import { type AnyRoute, type RunDeps, runRoute } from "./route";
import type { HttpRequest, HttpResult } from "./types";

async function readLimited(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new KeywardError("PAYLOAD_TOO_LARGE", `The body may be at most ${limit} bytes.`);
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8").decode(Buffer.concat(chunks));
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
