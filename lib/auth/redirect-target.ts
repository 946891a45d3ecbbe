// Where the app may send a browser after sign-in, sign-up or sign-out: same-origin paths only
// (PRODUCT.md §9). The decision is made by parsing the target the way a browser does
// (`new URL(target, appOrigin)`: it drops tabs and newlines, reads `\` as `/` and `//x` as
// another host) and comparing origins; what is returned is only path, query and fragment, so a
// spoofed Host header cannot turn it into another site either. Anything else falls back.

export const HOME_PATH = "/dashboard";

/** Targets longer than this are refused (no page of ours needs more). */
const MAX_TARGET_LENGTH = 2048;

/**
 * `target` as a path on `appOrigin` ("/keys?x=1#y"), or `fallback` when it is not a string, does
 * not parse, or leads to any other origin or scheme (`//x`, `/\x`, `/\t/x`, `https://x`,
 * `javascript:`...).
 */
export function sameOriginPath(target: unknown, appOrigin: string, fallback = HOME_PATH): string {
  if (typeof target !== "string" || target.length === 0 || target.length > MAX_TARGET_LENGTH) {
    return fallback;
  }
  let origin: string;
  let url: URL;
  try {
    origin = new URL(appOrigin).origin;
    url = new URL(target, `${origin}/`);
  } catch {
    return fallback;
  }
  if (origin === "null" || url.origin !== origin) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // A path that a browser would read as another host ("/.//x" parses to "//x"): never.
  if (!path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return fallback;
  return path;
}

/**
 * The page to open after signing in: a same-origin path (sameOriginPath) that is not a sign-in
 * page or an API route (no loops, no landing on JSON).
 */
export function afterSignInPath(target: unknown, appOrigin: string, fallback = HOME_PATH): string {
  const path = sameOriginPath(target, appOrigin, fallback);
  const bare = path.split(/[?#]/, 1)[0].toLowerCase();
  if (
    bare === "/login" ||
    bare === "/signup" ||
    bare.startsWith("/login/") ||
    bare.startsWith("/signup/") ||
    bare.startsWith("/api/")
  ) {
    return fallback;
  }
  return path;
}
