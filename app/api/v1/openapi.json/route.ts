// GET /api/v1/openapi.json (lib/http/routes/system.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { openApiRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(openApiRoute);
