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
 * string). Returns the refusal, or null to let the request through. /api/* routes bound their
 * own bodies (the /api/v1 route core, the /api/auth route); for /api/auth/* a declared length
 * over the limit is refused here too, before Next.
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
  if (path.startsWith("/api/auth/")) {
    // The route counts a streamed body itself; a declared length over the limit stops here, where
    // the connection can be closed gently (see server.ts).
    if (
      contentLength !== undefined &&
      /^\d+$/.test(contentLength.trim()) &&
      Number(contentLength) > limit
    ) {
      return { status: 413, detail: `The body may be at most ${limit} bytes.` };
    }
    return null;
  }
  if (path.startsWith("/api/")) return null;
  if (contentLength === undefined || !/^\d+$/.test(contentLength.trim())) {
    if (transferEncoding === undefined && contentLength === undefined) return null; // no body
    return { status: 411, detail: "Send the form with a Content-Length header." };
  }
  if (Number(contentLength) > limit) {
    return { status: 413, detail: `The form may send at most ${limit} bytes.` };
  }
  return null;
}
