// POST /api/v1/keys/{id}/rotate (lib/http/routes/keys.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { rotateKeyRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(rotateKeyRoute);
