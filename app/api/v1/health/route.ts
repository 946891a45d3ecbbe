// GET /api/v1/health (lib/http/routes/system.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { healthRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(healthRoute);
