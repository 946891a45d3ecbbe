// GET, PATCH, DELETE /api/v1/keys/{id} (lib/http/routes/keys.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { getKeyRoute, revokeKeyRoute, updateKeyRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(getKeyRoute);
export const PATCH = toFetchHandler(updateKeyRoute);
export const DELETE = toFetchHandler(revokeKeyRoute);
