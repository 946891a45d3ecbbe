// GitHub's secret scanning partner program (docs.github.com, "Secret scanning partner program"):
// GitHub POSTs a JSON list of `{ token, type, url, source }`, signed with ECDSA P-256 / SHA-256
// over the raw body (header Github-Public-Key-Signature, base64 DER) by the key named in
// Github-Public-Key-Identifier. The public keys are configured, never fetched here
// (KEYWARD_GITHUB_SECRET_SCANNING_KEYS: the JSON of GitHub's /meta/public_keys/secret_scanning,
// or a file holding it; docs/leaks.md says how to fetch it). Each token then gets the same
// policy as a public report, and the answer labels it `true_positive` (a Keyward key) or
// `false_positive`, with the token's SHA-256 as GitHub asks.
import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { config } from "@/lib/config";
import type { Db } from "@/lib/db";
import { KeywardError } from "@/lib/errors";
import { GithubSecretAlertsSchema } from "@/lib/validation/leaks";
import { isCleanText } from "@/lib/validation/text";
import { z } from "@/lib/validation/zod";
import type { Actor } from "../actor";
import { applyLeakReport } from "./apply-leak";

const PublicKeysSchema = z.object({
  public_keys: z
    .array(
      z.object({
        key_identifier: z.string().min(1).max(512),
        key: z.string().min(1).max(10_000),
        is_current: z.boolean().optional(),
      }),
    )
    .min(1),
});

/** The configured keys by identifier; throws a line naming what is wrong (never the value). */
export function parseGithubPublicKeys(raw: string): Map<string, KeyObject> {
  const text = raw.trim().startsWith("{") ? raw : readFileSync(raw.trim(), "utf8");
  const parsed = PublicKeysSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error("KEYWARD_GITHUB_SECRET_SCANNING_KEYS: expected { public_keys: [...] }");
  }
  const keys = new Map<string, KeyObject>();
  for (const k of parsed.data.public_keys) {
    const key = createPublicKey(k.key);
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error(`KEYWARD_GITHUB_SECRET_SCANNING_KEYS: key ${k.key_identifier} is not P-256`);
    }
    keys.set(k.key_identifier, key);
  }
  return keys;
}

let cached: { raw: string; keys: Map<string, KeyObject> } | null = null;

function configuredKeys(): Map<string, KeyObject> {
  const raw = config().KEYWARD_GITHUB_SECRET_SCANNING_KEYS;
  if (!raw || (!raw.trim().startsWith("{") && !existsSync(raw.trim()))) {
    throw new KeywardError(
      "UNAVAILABLE",
      "GitHub secret scanning is not configured on this server (KEYWARD_GITHUB_SECRET_SCANNING_KEYS).",
    );
  }
  if (cached?.raw !== raw) {
    try {
      cached = { raw, keys: parseGithubPublicKeys(raw) };
    } catch (e) {
      console.error(`keyward: ${(e as Error).message}`);
      throw new KeywardError("UNAVAILABLE", "GitHub secret scanning's keys are misconfigured.");
    }
  }
  return cached.keys;
}

/** Throws 400 (headers missing) or 401 SIGNATURE_INVALID unless GitHub signed `body`. */
export function checkGithubSignature(
  body: string,
  keyId: string | null,
  signature: string | null,
): void {
  if (!keyId || !signature) {
    throw new KeywardError(
      "BAD_REQUEST",
      "Github-Public-Key-Identifier and Github-Public-Key-Signature are required.",
    );
  }
  const key = configuredKeys().get(keyId);
  let ok = false;
  if (key && /^[A-Za-z0-9+/]+={0,2}$/.test(signature) && signature.length <= 256) {
    try {
      ok = verify(
        "sha256",
        Buffer.from(body, "utf8"),
        { key, dsaEncoding: "der" },
        Buffer.from(signature, "base64"),
      );
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new KeywardError(
      "SIGNATURE_INVALID",
      "The signature does not verify with a configured GitHub public key.",
    );
  }
}

export interface GithubLabel {
  token_hash: string;
  token_type: string;
  label: "true_positive" | "false_positive";
}

/** The alerts of a signed body, each given the leak policy, labelled in GitHub's format. */
export async function handleGithubAlerts(
  db: Db,
  body: string,
  actor: Actor,
): Promise<GithubLabel[]> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new KeywardError("INVALID_JSON", "The body is not valid JSON.");
  }
  const alerts = GithubSecretAlertsSchema.safeParse(json);
  if (!alerts.success) {
    throw new KeywardError("VALIDATION_FAILED", "Expected a list of { token, type, url, source }.");
  }
  const out: GithubLabel[] = [];
  for (const a of alerts.data) {
    // What GitHub says of where it saw the token is kept only when it is plain text and an
    // http(s) URL: it is shown in the dashboard and in mail.
    const source = a.source && isCleanText(a.source) ? `github:${a.source}` : "github";
    const url = a.url && isCleanText(a.url) && /^https?:\/\/[^\s]+$/.test(a.url) ? a.url : null;
    const outcome = await applyLeakReport(db, { key: a.token, source, url }, actor);
    out.push({
      token_hash: createHash("sha256").update(a.token, "utf8").digest("hex"),
      token_type: a.type,
      label: outcome === "unknown" ? "false_positive" : "true_positive",
    });
  }
  return out;
}
