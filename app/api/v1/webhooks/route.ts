// GET, POST /api/v1/webhooks (lib/http/routes/webhooks.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { createWebhookRoute, listWebhooksRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(listWebhooksRoute);
export const POST = toFetchHandler(createWebhookRoute);
