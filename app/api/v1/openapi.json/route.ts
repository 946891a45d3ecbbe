// GET /api/v1/openapi.json (lib/openapi).
import { toFetchHandler } from "@/lib/http/fetch";
import { openApiRoute } from "@/lib/openapi";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(openApiRoute);
