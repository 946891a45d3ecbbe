import { NextRequest } from "next/server";
import { handlers } from "@/auth";
import { isKeywardError } from "@/lib/errors";
import { AUTH_BODY_LIMIT, payloadTooLarge, readBodyWithin } from "@/lib/http/body-limit";

export const { GET } = handlers;

// Auth.js reads the whole body (form data) of every POST: bound it first, so a huge POST to
// /api/auth/callback/credentials is refused with 413 instead of filling memory.
export async function POST(request: NextRequest): Promise<Response> {
  let body: Uint8Array | null;
  try {
    body = await readBodyWithin(request, AUTH_BODY_LIMIT);
  } catch (e) {
    if (isKeywardError(e)) return payloadTooLarge(e, "/api/auth");
    throw e;
  }
  const headers = new Headers(request.headers);
  headers.delete("transfer-encoding");
  if (body) headers.set("content-length", String(body.byteLength));
  return handlers.POST(
    new NextRequest(request.url, { method: "POST", headers, body: body as BodyInit | null }),
  );
}
