// Who is calling: the key from `Authorization: Bearer` or `X-API-Key` (one of them, once), never
// from the URL; then the key service's verify decides, and its code becomes the HTTP answer.
import type { Db } from "@/lib/db";
import { type ErrorCode, KeywardError } from "@/lib/errors";
import { looksLikeServiceCredential } from "@/lib/keys/service-credential";
import { retryAfterSeconds } from "@/lib/ratelimit/policies";
import type { RateLimitResult } from "@/lib/ratelimit/types";
import {
  authenticateServiceCredential,
  type ServiceAuthOutcome,
  type ServiceCaller,
} from "@/lib/services/service-credentials";
import { type VerifyOutcome, verifyKey } from "@/lib/services/verify";
import type { VerifyCode } from "@/lib/validation/keys";
import { rateLimitHeaders, secondsUntil } from "./ratelimit-headers";
import type { AuthContext, HeaderSource, HttpRequest } from "./types";

const KEY_LIKE = /pk_(live|test)_|ksvc_/i;
const KEY_PARAMS = new Set(["key", "api_key", "apikey", "api-key", "access_token", "token"]);

/**
 * Keys (and service credentials) are never accepted in the URL: it ends up in logs, histories and
 * referrers.
 */
export function rejectKeyInUrl(url: URL): void {
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {}
  const inQuery =
    url.search !== "" &&
    [...url.searchParams].some(
      ([k, v]) => KEY_PARAMS.has(k.toLowerCase()) || KEY_LIKE.test(v) || KEY_LIKE.test(k),
    );
  if (inQuery || KEY_LIKE.test(path)) {
    throw new KeywardError(
      "BAD_REQUEST",
      "API keys are never accepted in the URL. Send it as `Authorization: Bearer <key>`, and revoke this key: it may have been logged.",
    );
  }
}

/** The presented key, or null when none; throws 400/401 for ambiguous or malformed headers. */
export function extractKey(headers: HeaderSource): string | null {
  const authorization = headers.get("authorization");
  const apiKey = headers.get("x-api-key");
  if (authorization !== null && apiKey !== null) {
    throw new KeywardError(
      "BAD_REQUEST",
      "Send the key in one header, `Authorization: Bearer` or `X-API-Key`, not both.",
    );
  }
  if (authorization !== null) {
    // Fetch joins repeated headers with ", "; node keeps the first Authorization. Either way a
    // comma means more than one credential.
    if (authorization.includes(",")) {
      throw new KeywardError("BAD_REQUEST", "Send exactly one Authorization header.");
    }
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) {
      throw new KeywardError("UNAUTHORIZED", "Use `Authorization: Bearer <key>`.");
    }
    return m[1]!;
  }
  if (apiKey !== null) {
    if (apiKey.includes(",")) {
      throw new KeywardError("BAD_REQUEST", "Send exactly one X-API-Key header.");
    }
    const v = apiKey.trim();
    if (!v) throw new KeywardError("UNAUTHORIZED", "The X-API-Key header is empty.");
    return v;
  }
  return null;
}

const FAILURE: Record<Exclude<VerifyCode, "VALID">, { code: ErrorCode; detail: string }> = {
  INVALID_FORMAT: {
    code: "INVALID_FORMAT",
    detail: "The API key is not in the pk_live_… / pk_test_… format.",
  },
  NOT_FOUND: { code: "KEY_NOT_FOUND", detail: "No such API key." },
  REVOKED: { code: "KEY_REVOKED", detail: "This API key has been revoked; use another key." },
  EXPIRED: {
    code: "KEY_EXPIRED",
    detail: "This API key has expired; rotate it or create a new one.",
  },
  INSUFFICIENT_SCOPE: {
    code: "INSUFFICIENT_SCOPE",
    detail: "This API key lacks a scope this route needs.",
  },
  ORG_INACTIVE: { code: "ORG_INACTIVE", detail: "The key's organization is inactive." },
  IP_NOT_ALLOWED: {
    code: "IP_NOT_ALLOWED",
    detail: "This API key may not be used from your address (its allowedCidrs).",
  },
  RATE_LIMITED: {
    code: "RATE_LIMITED",
    detail: "Too many requests for this key; retry after the time given.",
  },
  QUOTA_EXCEEDED: {
    code: "QUOTA_EXCEEDED",
    detail: "The organization's monthly request quota is used up.",
  },
  CREDITS_EXHAUSTED: {
    code: "CREDITS_EXHAUSTED",
    detail: "This API key has no credits left; they refill at its next refill, if it has one.",
  },
  SPEND_LIMIT_EXCEEDED: {
    code: "SPEND_LIMIT_EXCEEDED",
    detail: "The monthly spend limit of this key or its organization is reached.",
  },
};

/** Turns a failed verify outcome into the error the client sees (with retry headers set). */
export function outcomeError(
  outcome: VerifyOutcome,
  headers: Record<string, string>,
  now: number,
  scopes: string[] = [],
): KeywardError {
  const code = outcome.code as Exclude<VerifyCode, "VALID">;
  const f = FAILURE[code];
  let detail = f.detail;
  if (code === "INSUFFICIENT_SCOPE" && scopes.length) {
    detail = `This route needs the scope(s) ${scopes.join(", ")}.`;
  }
  if (outcome.addressLimit && !outcome.addressLimit.allowed) {
    return addressThrottled(outcome.addressLimit, headers, now);
  }
  if (code === "RATE_LIMITED" && outcome.ratelimit) {
    return new KeywardError(f.code, detail, {
      extra: { retryAfter: retryAfterSeconds(outcome.ratelimit) },
    });
  }
  if (code === "QUOTA_EXCEEDED" && outcome.quotaResetAt) {
    const retryAfter = Math.max(1, secondsUntil(outcome.quotaResetAt, now));
    return new KeywardError(f.code, detail, { extra: { retryAfter } });
  }
  return new KeywardError(f.code, detail);
}

export async function authenticate(
  db: Db,
  request: HttpRequest,
  scopes: string[],
  endpoint: string,
  headers: Record<string, string>,
  now: () => number,
  /** Told the key whenever one was found, also when it is then refused (for metering). */
  onKey?: (key: NonNullable<VerifyOutcome["key"]>) => void,
): Promise<AuthContext> {
  const key = extractKey(request.headers);
  if (key === null) {
    throw new KeywardError(
      "UNAUTHORIZED",
      "This route needs an API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    );
  }
  if (looksLikeServiceCredential(key)) {
    // A service credential only reports usage: on any other route it is refused, 401 when it is
    // not a working credential, else 403.
    const outcome = await authenticateServiceCredential(db, key, { scopes: [], ip: request.ip });
    throw outcome.ok
      ? new KeywardError(
          "FORBIDDEN",
          "A service credential only reports usage (POST /api/v1/usage/events); this route needs an API key.",
        )
      : serviceOutcomeError(outcome, headers, now());
  }
  // A key calling Keyward itself is held to its allowlist by the address it calls from.
  const outcome = await verifyKey(db, {
    key,
    scopes,
    endpoint,
    ip: request.ip,
    clientIp: request.ip,
  });
  if (outcome.key) onKey?.(outcome.key);
  if (outcome.ratelimit) Object.assign(headers, rateLimitHeaders(outcome.ratelimit, now()));
  if (outcome.code !== "VALID" || !outcome.key) throw outcomeError(outcome, headers, now(), scopes);
  return { key: outcome.key, ratelimit: outcome.ratelimit };
}

const SERVICE_FAILURE: Record<
  Exclude<ServiceAuthOutcome, { ok: true }>["code"],
  { code: ErrorCode; detail: string }
> = {
  INVALID_FORMAT: {
    code: "INVALID_FORMAT",
    detail: "The service credential is not in the ksvc_… format.",
  },
  NOT_FOUND: { code: "KEY_NOT_FOUND", detail: "No such service credential." },
  REVOKED: {
    code: "KEY_REVOKED",
    detail: "This service credential has been revoked; use another one.",
  },
  INSUFFICIENT_SCOPE: {
    code: "INSUFFICIENT_SCOPE",
    detail: "This service credential lacks a scope this route needs.",
  },
};

function serviceOutcomeError(
  outcome: Exclude<ServiceAuthOutcome, { ok: true }>,
  headers: Record<string, string>,
  now: number,
  scopes: readonly string[] = [],
): KeywardError {
  if (outcome.addressLimit && !outcome.addressLimit.allowed) {
    return addressThrottled(outcome.addressLimit, headers, now);
  }
  const f = SERVICE_FAILURE[outcome.code];
  const detail =
    outcome.code === "INSUFFICIENT_SCOPE" && scopes.length
      ? `This route needs a service credential with the scope(s) ${scopes.join(", ")}.`
      : f.detail;
  return new KeywardError(f.code, detail);
}

function addressThrottled(
  limit: RateLimitResult,
  headers: Record<string, string>,
  now: number,
): KeywardError {
  Object.assign(headers, rateLimitHeaders(limit, now));
  return new KeywardError(
    "RATE_LIMITED",
    "Too many failed key checks from your address; retry after the time given.",
    { extra: { retryAfter: retryAfterSeconds(limit) } },
  );
}

/**
 * For routes that take a service credential (RouteSpec.serviceScopes): the caller when the
 * request presents a working `ksvc_…` credential holding `scopes`; null when it presents an API
 * key (or nothing), which `authenticate` then handles; throws 401/403/429 for a credential that
 * is refused.
 */
export async function authenticateService(
  db: Db,
  request: HttpRequest,
  scopes: readonly string[],
  headers: Record<string, string>,
  now: () => number,
): Promise<ServiceCaller | null> {
  const secret = extractKey(request.headers);
  if (secret === null || !looksLikeServiceCredential(secret)) return null;
  const outcome = await authenticateServiceCredential(db, secret, { scopes, ip: request.ip });
  if (!outcome.ok) throw serviceOutcomeError(outcome, headers, now(), scopes);
  return outcome.caller;
}
