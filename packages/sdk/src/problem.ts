// RFC 9457 problem documents with Keyward's stable codes, so a refused request looks the same
// whether Keyward itself or this middleware answered it.
import type { components } from "./generated/api";

export type VerifyCode = components["schemas"]["VerifyResult"]["code"];

export type ProblemCode =
  | "UNAUTHORIZED"
  | "INVALID_FORMAT"
  | "KEY_NOT_FOUND"
  | "KEY_REVOKED"
  | "KEY_EXPIRED"
  | "INSUFFICIENT_SCOPE"
  | "ORG_INACTIVE"
  | "IP_NOT_ALLOWED"
  | "RATE_LIMITED"
  | "QUOTA_EXCEEDED"
  | "CREDITS_EXHAUSTED"
  | "SPEND_LIMIT_EXCEEDED"
  | "BAD_REQUEST"
  | "UNAVAILABLE";

export const PROBLEMS: Record<ProblemCode, { status: number; title: string }> = {
  UNAUTHORIZED: { status: 401, title: "Missing or invalid API key" },
  INVALID_FORMAT: { status: 401, title: "Malformed API key" },
  KEY_NOT_FOUND: { status: 401, title: "Unknown API key" },
  KEY_REVOKED: { status: 401, title: "API key revoked" },
  KEY_EXPIRED: { status: 401, title: "API key expired" },
  INSUFFICIENT_SCOPE: { status: 403, title: "Missing scope" },
  ORG_INACTIVE: { status: 403, title: "Organization inactive" },
  IP_NOT_ALLOWED: { status: 403, title: "Address not allowed for this key" },
  RATE_LIMITED: { status: 429, title: "Rate limit exceeded" },
  QUOTA_EXCEEDED: { status: 429, title: "Monthly quota exceeded" },
  CREDITS_EXHAUSTED: { status: 429, title: "Credits exhausted" },
  SPEND_LIMIT_EXCEEDED: { status: 429, title: "Monthly spend limit reached" },
  BAD_REQUEST: { status: 400, title: "Bad request" },
  UNAVAILABLE: { status: 503, title: "Service unavailable" },
};

/** Verify's answer code -> the error code Keyward's own API uses for the same refusal. */
export const VERIFY_TO_PROBLEM: Record<Exclude<VerifyCode, "VALID">, ProblemCode> = {
  INVALID_FORMAT: "INVALID_FORMAT",
  NOT_FOUND: "KEY_NOT_FOUND",
  REVOKED: "KEY_REVOKED",
  EXPIRED: "KEY_EXPIRED",
  INSUFFICIENT_SCOPE: "INSUFFICIENT_SCOPE",
  RATE_LIMITED: "RATE_LIMITED",
  QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
  ORG_INACTIVE: "ORG_INACTIVE",
  CREDITS_EXHAUSTED: "CREDITS_EXHAUSTED",
  SPEND_LIMIT_EXCEEDED: "SPEND_LIMIT_EXCEEDED",
  IP_NOT_ALLOWED: "IP_NOT_ALLOWED",
};

const DETAILS: Record<ProblemCode, string> = {
  UNAUTHORIZED: "This route needs an API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
  INVALID_FORMAT: "The API key is malformed.",
  KEY_NOT_FOUND: "The API key is not known.",
  KEY_REVOKED: "The API key was revoked.",
  KEY_EXPIRED: "The API key has expired.",
  INSUFFICIENT_SCOPE: "The API key lacks a scope this route needs.",
  ORG_INACTIVE: "The API key's organization is inactive.",
  IP_NOT_ALLOWED: "This API key may not be used from the client's address (its allowedCidrs).",
  RATE_LIMITED: "Too many requests for this key; retry after the number of seconds in Retry-After.",
  QUOTA_EXCEEDED: "This key's organization has used its monthly quota.",
  CREDITS_EXHAUSTED: "This API key has no credits left.",
  SPEND_LIMIT_EXCEEDED: "The monthly spend limit of this key or its organization is reached.",
  BAD_REQUEST: "Send the key in one header, `Authorization: Bearer` or `X-API-Key`, not both.",
  UNAVAILABLE: "API keys cannot be checked right now; retry shortly.",
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  [extra: string]: unknown;
}

export function problemOf(
  code: ProblemCode,
  typeBase: string,
  extra: Record<string, unknown> = {},
): Problem {
  const { status, title } = PROBLEMS[code];
  return {
    type: `${typeBase}/docs#error-${code.toLowerCase().replaceAll("_", "-")}`,
    title,
    status,
    detail: DETAILS[code],
    code,
    ...extra,
  };
}
