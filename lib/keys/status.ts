// A key's effective status, the one predicate: a row that says active but whose expiry has passed
// is expired, whatever the row says. The database's own filter for it is
// `effectiveStatusWhere` in lib/repositories/api-key-repository.ts.

export type KeyStatusWord = "active" | "revoked" | "expired";

export function effectiveStatus(
  key: {
    status: KeyStatusWord | "ACTIVE" | "REVOKED" | "EXPIRED";
    expiresAt: Date | number | null;
  },
  now: Date | number = Date.now(),
): KeyStatusWord {
  const status = key.status.toLowerCase() as KeyStatusWord;
  if (status !== "active") return status;
  const expiry = key.expiresAt instanceof Date ? key.expiresAt.getTime() : key.expiresAt;
  const at = now instanceof Date ? now.getTime() : now;
  return expiry !== null && expiry <= at ? "expired" : "active";
}
