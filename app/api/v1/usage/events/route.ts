// POST /api/v1/usage/events (lib/http/routes/usage.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { usageEventsRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(usageEventsRoute);
