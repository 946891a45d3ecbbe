// POST /api/v1/secret-scanning/github: the route spec and its logic live in lib/http/routes/leaks.ts.
import { toFetchHandler } from "@/lib/http/fetch";
import { githubSecretScanningRoute } from "@/lib/http/routes";

export const dynamic = "force-dynamic";
export const POST = toFetchHandler(githubSecretScanningRoute);
