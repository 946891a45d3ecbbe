// GET /api/v1/usage (lib/http/routes/usage.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { usageReportRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(usageReportRoute);
