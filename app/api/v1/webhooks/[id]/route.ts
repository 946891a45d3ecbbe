// GET, PATCH, DELETE /api/v1/webhooks/{id} (lib/http/routes/webhooks.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { deleteWebhookRoute, getWebhookRoute, updateWebhookRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(getWebhookRoute);
export const PATCH = toFetchHandler(updateWebhookRoute);
export const DELETE = toFetchHandler(deleteWebhookRoute);
