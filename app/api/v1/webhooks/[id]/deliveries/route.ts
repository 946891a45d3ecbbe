// GET /api/v1/webhooks/{id}/deliveries (lib/http/routes/webhooks.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { listWebhookDeliveriesRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(listWebhookDeliveriesRoute);
