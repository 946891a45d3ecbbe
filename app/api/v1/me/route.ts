// GET /api/v1/me (lib/http/routes/keys.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { meRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(meRoute);
