/** Only same-site paths are followed after sign-in (no open redirect to another origin). */
export function safeRedirectPath(value: unknown, fallback = "/dashboard"): string {
  if (typeof value !== "string") return fallback;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  if (value.startsWith("/api/") || value.startsWith("/login") || value.startsWith("/signup")) {
    return fallback;
  }
  return value;
}
