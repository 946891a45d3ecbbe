// POST /api/v1/keys/verify: the route spec and its logic live in lib/http/routes/verify.ts.
import { toFetchHandler } from "@/lib/http/fetch";
import { verifyRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(verifyRoute);
