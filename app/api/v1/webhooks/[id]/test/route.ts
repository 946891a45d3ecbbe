// POST /api/v1/webhooks/{id}/test (lib/http/routes/webhooks.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { sendWebhookTestRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(sendWebhookTestRoute);
