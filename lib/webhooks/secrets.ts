// Webhook signing secrets: "whsec_" + 24 random bytes in base64 (the Standard Webhooks form).
// Signing needs the secret back, so it is stored sealed with AES-256-GCM under a key derived
// (HKDF-SHA256) from AUTH_SECRET; `npm start` always has one. Changing AUTH_SECRET makes sealed
// secrets unreadable: the endpoints' secrets must then be rotated (docs/operations.md).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { config } from "@/lib/config";

const PREFIX = "whsec_";
const VERSION = "v1";
/** Used only when AUTH_SECRET is unset (tests that drive services directly). */
const DEV_ONLY_SECRET = "keyward-development-only-webhook-sealing-secret";

export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(24).toString("base64");
}

let cached: { from: string; key: Buffer } | null = null;

function sealingKey(): Buffer {
  const from = config().AUTH_SECRET ?? DEV_ONLY_SECRET;
  if (cached?.from === from) return cached.key;
  const key = Buffer.from(hkdfSync("sha256", from, "keyward", "webhook-secret-seal/v1", 32));
  cached = { from, key };
  return key;
}

/** `v1.<iv>.<tag>.<ciphertext>`, each base64url. */
export function sealSecret(secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(), iv);
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, body]
    .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
    .join(".");
}

/** The secret back; throws when the seal is damaged or was made under another AUTH_SECRET. */
export function openSecret(sealed: string): string {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || body === undefined) {
    throw new Error("webhook secret: unknown seal format");
  }
  const decipher = createDecipheriv("aes-256-gcm", sealingKey(), Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([
    decipher.update(Buffer.from(body, "base64url")),
    decipher.final(),
  ]).toString("utf8");
}
