// Response headers for every page (wired in next.config): a content security policy, framing
// denied, no MIME sniffing, a strict referrer policy. Next's hydration uses inline scripts and
// recharts/sonner set inline styles, so 'unsafe-inline' stays for those two until a nonce-based
// policy (a proxy on every request) is worth its cost.
// Relative: next.config.ts loads this file outside the app's path aliases.
import { config } from "../config";

export interface SecurityHeaderOptions {
  /** next dev needs eval for fast refresh. */
  dev?: boolean;
  /** Extra origins a sign-in form may post to (OAuth providers redirect there). */
  formActionOrigins?: string[];
}

export function contentSecurityPolicy(options: SecurityHeaderOptions = {}): string {
  const formAction = ["'self'", ...(options.formActionOrigins ?? [])].join(" ");
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${options.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${options.dev ? " ws: wss:" : ""}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
  ];
  return directives.join("; ");
}

/** OAuth providers switched on by environment variables, whose pages a sign-in form reaches. */
export function oauthFormActionOrigins(
  env: Partial<Record<string, string | number | boolean>> = config(),
) {
  const origins: string[] = [];
  if (env.AUTH_GITHUB_ID && env.AUTH_GITHUB_SECRET) origins.push("https://github.com");
  if (env.AUTH_GOOGLE_ID && env.AUTH_GOOGLE_SECRET) origins.push("https://accounts.google.com");
  return origins;
}

export function securityHeaders(
  options: SecurityHeaderOptions = {},
): Array<{ key: string; value: string }> {
  return [
    { key: "Content-Security-Policy", value: contentSecurityPolicy(options) },
    { key: "X-Frame-Options", value: "DENY" },
    { key: "X-Content-Type-Options", value: "nosniff" },
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
    { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  ];
}
