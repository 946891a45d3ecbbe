// Fetch-style handlers (`(req: Request) => Response`): Next.js route handlers, Hono, Bun, Deno.
import type { Keyward, KeywardContext, ProtectOptions } from "./keyward";

export type ProtectedHandler<A extends unknown[]> = (
  req: Request,
  keyward: KeywardContext,
  ...rest: A
) => Response | Promise<Response>;

function withHeaders(res: Response, headers: Record<string, string>): Response {
  const entries = Object.entries(headers);
  if (entries.length === 0) return res;
  try {
    for (const [k, v] of entries) res.headers.set(k, v);
    return res;
  } catch {
    // Immutable headers (e.g. a Response from fetch): copy it.
    const copy = new Response(res.body, res);
    for (const [k, v] of entries) copy.headers.set(k, v);
    return copy;
  }
}

/**
 * Wraps a handler: the key is verified first (refusals answered as problem+json), the
 * RateLimit headers are set on the answer, and the request is metered when it is answered.
 * Extra arguments (Next.js's `{ params }`) are passed through.
 */
export function protect<A extends unknown[]>(
  keyward: Keyward,
  handler: ProtectedHandler<A>,
  route: ProtectOptions = {},
): (req: Request, ...rest: A) => Promise<Response> {
  return async (req, ...rest) => {
    const admission = await keyward.admit(
      {
        method: req.method,
        url: req.url,
        authorization: req.headers.get("authorization"),
        xApiKey: req.headers.get("x-api-key"),
        ip: keyward.clientIpOf(req),
      },
      route,
    );
    if (!admission.ok) {
      return new Response(JSON.stringify(admission.problem), {
        status: admission.status,
        headers: admission.headers,
      });
    }
    let status = 500;
    try {
      const res = withHeaders(await handler(req, admission.ctx, ...rest), admission.headers);
      status = res.status;
      return res;
    } finally {
      keyward.record(admission.ctx, status);
    }
  };
}
