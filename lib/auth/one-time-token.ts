// One-time tokens for links in mail (email verification, invitations): 32 random bytes as
// base64url in the link, only their SHA-256 in the database, so a read of the database gives
// nobody a working link.
import { createHash, randomBytes } from "node:crypto";

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function isTokenFormat(token: unknown): token is string {
  return typeof token === "string" && TOKEN_RE.test(token);
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new token and the hash to store; the token goes into the mail and nowhere else. */
export function createOneTimeToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: hashToken(token) };
}
