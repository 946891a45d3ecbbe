// GET, POST /api/v1/keys (lib/http/routes/keys.ts).
import { toFetchHandler } from "@/lib/http/fetch";
import { createKeyRoute, listKeysRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const GET = toFetchHandler(listKeysRoute);
export const POST = toFetchHandler(createKeyRoute);
