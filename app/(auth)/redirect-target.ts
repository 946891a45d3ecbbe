// The app's own origin for redirect decisions (lib/auth/redirect-target.ts), from the request.
import { headers } from "next/headers";

export { afterSignInPath, HOME_PATH } from "@/lib/auth/redirect-target";

/**
 * This request's origin as the browser sees it. Only used to recognise absolute same-origin
 * targets: the redirect functions return a path either way, so a forged Host cannot lead off-site.
 */
export async function requestOrigin(): Promise<string> {
  const h = await headers();
  const host = h.get("x-forwarded-host") ?? h.get("host") ?? "localhost";
  const proto = h.get("x-forwarded-proto") === "https" ? "https" : "http";
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return "http://localhost";
  }
}
