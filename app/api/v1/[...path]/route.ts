// Any other /api/v1 path: a problem+json 404 for every method, so no request (whatever its body
// or content type) falls through to the page router.
import { toFetchHandler } from "@/lib/http/fetch";
import { unknownRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
const handler = toFetchHandler(unknownRoute);
export const GET = handler;
export const POST = handler;
export const PUT = handler;
export const PATCH = handler;
export const DELETE = handler;
export const HEAD = handler;
export const OPTIONS = handler;
