// Keyward's typed errors: one table ties each stable code to its HTTP status and
// a title; the message is for the client and never carries a secret. The cause,
// when there is one, is for the log only.

export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, title: "Bad request" },
  INVALID_JSON: { status: 400, title: "Malformed JSON body" },
  UNAUTHORIZED: { status: 401, title: "Missing or invalid API key" },
  INVALID_FORMAT: { status: 401, title: "Malformed API key" },
  KEY_NOT_FOUND: { status: 401, title: "Unknown API key" },
  KEY_REVOKED: { status: 401, title: "API key revoked" },
  SIGNATURE_INVALID: { status: 401, title: "Invalid signature" },
  KEY_EXPIRED: { status: 401, title: "API key expired" },
  FORBIDDEN: { status: 403, title: "Forbidden" },
  INSUFFICIENT_SCOPE: { status: 403, title: "Missing scope" },
  ORG_INACTIVE: { status: 403, title: "Organization inactive" },
  PRIVILEGE_CEILING: { status: 403, title: "More than the calling key holds" },
  IP_NOT_ALLOWED: { status: 403, title: "Address not allowed for this key" },
  NOT_FOUND: { status: 404, title: "Not found" },
  CONFLICT: { status: 409, title: "Conflict" },
  KEY_LIMIT_REACHED: { status: 409, title: "Active key limit reached" },
  WEBHOOK_LIMIT_REACHED: { status: 409, title: "Webhook endpoint limit reached" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Request body too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  VALIDATION_FAILED: { status: 422, title: "Validation failed" },
  WEBHOOK_URL_INVALID: { status: 422, title: "Webhook URL invalid" },
  WEBHOOK_URL_NOT_ALLOWED: { status: 422, title: "Webhook URL not allowed" },
  POLICY_MAX_LIFETIME: { status: 422, title: "Longer than the organization's key lifetime" },
  POLICY_EXPIRY_REQUIRED: { status: 422, title: "The organization requires an expiry" },
  POLICY_LIVE_ADMINS_ONLY: { status: 422, title: "Live keys are for admins only" },
  RATE_LIMITED: { status: 429, title: "Rate limit exceeded" },
  QUOTA_EXCEEDED: { status: 429, title: "Monthly quota exceeded" },
  CREDITS_EXHAUSTED: { status: 429, title: "Credits exhausted" },
  SPEND_LIMIT_EXCEEDED: { status: 429, title: "Monthly spend limit reached" },
  INTERNAL: { status: 500, title: "Internal error" },
  UNAVAILABLE: { status: 503, title: "Service unavailable" },
  DEPENDENCY_UNAVAILABLE: { status: 503, title: "A dependency is unavailable" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldIssue {
  path: string;
  message: string;
}

export class KeywardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly issues?: FieldIssue[];
  /** Extra, client-safe fields for the problem document (e.g. retryAfter). */
  readonly extra?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; issues?: FieldIssue[]; extra?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "KeywardError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.title = ERROR_CODES[code].title;
    this.issues = opts.issues;
    this.extra = opts.extra;
  }
}

export const isKeywardError = (e: unknown): e is KeywardError => e instanceof KeywardError;

export const notFound = (what = "resource") =>
  new KeywardError("NOT_FOUND", `The ${what} does not exist.`);
export const badRequest = (message: string, issues?: FieldIssue[]) =>
  new KeywardError("BAD_REQUEST", message, { issues });
export const validationFailed = (
  issues: FieldIssue[],
  message = "The request has invalid fields.",
) => new KeywardError("VALIDATION_FAILED", message, { issues });
export const conflict = (message: string) => new KeywardError("CONFLICT", message);
export const forbidden = (message = "You do not have permission to do that.") =>
  new KeywardError("FORBIDDEN", message);
/** A key-authenticated grant past the caller's own rights (PRODUCT.md section 8); names the field. */
export const privilegeCeiling = (field: string, message: string) =>
  new KeywardError("PRIVILEGE_CEILING", message, { issues: [{ path: field, message }] });
