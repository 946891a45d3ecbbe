// Bodies bounded before anything reads them whole, for fetch-style handlers outside the /api/v1
// route core (which has its own limit, route.ts): e.g. Auth.js's /api/auth/* endpoints, whose
// library would otherwise buffer whatever a client sends. A declared Content-Length over the
// limit is refused before a byte is read; an undeclared (chunked) body is counted as it streams
// and refused the moment it passes the limit, so memory never holds more than the limit.
import { KeywardError } from "@/lib/errors";
import { errorToProblem } from "./problem";
import { newRequestId } from "./route";

/** What /api/auth/* and server actions accept (PRODUCT.md section 8): 64 KiB. */
export const AUTH_BODY_LIMIT = 64 * 1024;

/** The body, at most `limit` bytes; throws PAYLOAD_TOO_LARGE (413) past it. */
export async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array | null> {
  const tooLarge = () =>
    new KeywardError("PAYLOAD_TOO_LARGE", `The body may be at most ${limit} bytes.`);
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) {
    throw tooLarge();
  }
  if (!request.body) return null;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * The 413 answer as problem+json. `Connection: close` so the server stops reading the rest of
 * an upload it has refused instead of draining it.
 */
export function payloadTooLarge(error: KeywardError, route: string): Response {
  const result = errorToProblem(error, newRequestId(), route);
  return new Response(JSON.stringify(result.body), {
    status: result.status,
    headers: { ...result.headers, connection: "close", "cache-control": "no-store" },
  });
}

/**
 * For server.ts, before a request reaches Next: a POST to a page (a server action, sent by the
 * browser with fetch, or a form posted without JavaScript) must declare its length, at most
 * `limit`. Next enforces serverActions.bodySizeLimit itself while reading, but answers a body
 * past it with a 500; and browsers always send Content-Length for these bodies (a FormData or a
 * string). Returns the refusal, or null to let the request through. /api/auth/* gets the same
 * rules here, before Next (its route bounds the body again, for `next start`); the other /api/*
 * routes bound their own bodies (the /api/v1 route core).
 */
export function pagePostRefusal(
  method: string | undefined,
  url: string | undefined,
  contentLength: string | undefined,
  transferEncoding: string | undefined,
  limit = AUTH_BODY_LIMIT,
): { status: 411 | 413; detail: string } | null {
  if (method !== "POST") return null;
  const path = url ?? "/";
  const auth = path.startsWith("/api/auth/");
  // Other /api/* routes bound their own bodies (the /api/v1 route core).
  if (!auth && path.startsWith("/api/")) return null;
  const what = auth ? "body" : "form";
  if (contentLength === undefined || !/^\d+$/.test(contentLength.trim())) {
    if (transferEncoding === undefined && contentLength === undefined) return null; // no body
    // A streamed body is refused before a byte is read, /api/auth/* included: counting it in the
    // route meant refusing mid-upload, where Next cancels the request stream and resets the
    // connection, so the client could see a reset instead of the 413. Auth.js's client and
    // browsers always send a length for these small bodies.
    return { status: 411, detail: `Send the ${what} with a Content-Length header.` };
  }
  if (Number(contentLength) > limit) {
    return { status: 413, detail: `The ${what} may be at most ${limit} bytes.` };
  }
  return null;
}
