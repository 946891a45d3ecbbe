// POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/resend (lib/http/routes/webhooks.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { resendWebhookDeliveryRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(resendWebhookDeliveryRoute);
