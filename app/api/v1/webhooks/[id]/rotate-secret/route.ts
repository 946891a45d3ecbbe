// POST /api/v1/webhooks/{id}/rotate-secret (lib/http/routes/webhooks.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { rotateWebhookSecretRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(rotateWebhookSecretRoute);
