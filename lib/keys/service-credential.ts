// Service credential material (PRODUCT.md section 13): `ksvc_` + 43 base64url characters (32
// CSPRNG bytes). Like keys, the plaintext, its SHA-256 and the display parts come back together,
// and only the hash is ever stored.
import { randomBytes } from "node:crypto";
import { hashKey } from "./hash";

export const SERVICE_CREDENTIAL_PREFIX = "ksvc_";
export const SERVICE_CREDENTIAL_LENGTH = SERVICE_CREDENTIAL_PREFIX.length + 43; // 48
export const SERVICE_CREDENTIAL_HINT_LENGTH = 4;
export const SERVICE_CREDENTIAL_PATTERN = /^ksvc_[A-Za-z0-9_-]{43}$/;

export interface GeneratedServiceCredential {
  /** The plaintext: shown once, never stored. */
  secret: string;
  /** SHA-256 of `secret`, 64 lowercase hex: what the database stores. */
  hash: string;
  prefix: typeof SERVICE_CREDENTIAL_PREFIX;
  /** The last four characters of `secret`. */
  hint: string;
}

export function generateServiceCredential(): GeneratedServiceCredential {
  const secret = SERVICE_CREDENTIAL_PREFIX + randomBytes(32).toString("base64url");
  return {
    secret,
    hash: hashKey(secret),
    prefix: SERVICE_CREDENTIAL_PREFIX,
    hint: secret.slice(-SERVICE_CREDENTIAL_HINT_LENGTH),
  };
}

/** True only for a string in the exact service credential format (checked before any lookup). */
export function isServiceCredentialFormat(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length === SERVICE_CREDENTIAL_LENGTH &&
    SERVICE_CREDENTIAL_PATTERN.test(value)
  );
}

/** Whether a presented credential claims to be a service credential (well formed or not). */
export function looksLikeServiceCredential(value: string): boolean {
  return value.startsWith(SERVICE_CREDENTIAL_PREFIX);
}
