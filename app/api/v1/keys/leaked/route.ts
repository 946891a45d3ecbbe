// POST /api/v1/keys/leaked: the route spec and its logic live in lib/http/routes/leaks.ts.
import { toFetchHandler } from "@/lib/http/fetch";
import { reportLeakRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(reportLeakRoute);
