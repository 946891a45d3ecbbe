// The key, role and plan rules as plain constants, written once. No server import (the Prisma
// enums below are types only): "use client" components import this module directly, the zod
// schemas in this folder are built from it, and the API, the server actions and the CLI use
// those schemas.
import type { Plan as DbPlan, Role as DbRole } from "@/lib/db/generated/enums";

/** A key's name: 1 to 100 characters. */
export const KEY_NAME_MAX = 100;

/** Why a key was revoked (for the audit log): at most 500 characters. */
export const REVOKE_REASON_MAX = 500;

/** A per-key limit: a 32-bit `Int` column, and far above any plan's. */
export const RATE_LIMIT_PER_MINUTE_MIN = 1;
export const RATE_LIMIT_PER_MINUTE_MAX = 1_000_000;

/** Credits: a balance or a refill amount fits a 32-bit `Int` column with room to spare. */
export const CREDITS_MAX = 1_000_000_000;
export const CREDIT_REFILL_INTERVALS = ["day", "month"] as const;
export type CreditRefillInterval = (typeof CREDIT_REFILL_INTERVALS)[number];
/** What one verify may spend (`cost`); 0 checks without spending. */
export const VERIFY_COST_MAX = 1_000_000;
/** A spend cap (USD per calendar month): up to six decimals, at most a million. */
export const SPEND_LIMIT_USD_MAX = 1_000_000;
export const SPEND_LIMIT_USD_RE = /^\d{1,7}(\.\d{1,6})?$/;

/** True for a spend cap the database and the rules take: 0 < value <= SPEND_LIMIT_USD_MAX. */
export function isSpendLimitUsd(value: string): boolean {
  if (!SPEND_LIMIT_USD_RE.test(value)) return false;
  const n = Number(value);
  return n > 0 && n <= SPEND_LIMIT_USD_MAX;
}

export const ENVIRONMENTS = ["live", "test"] as const;

/** An API key's status as the API and the CLI name it (lowercase). */
export const KEY_STATUSES = ["active", "revoked", "expired"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const ENVIRONMENT_LABELS: Readonly<Record<Environment, string>> = {
  live: "Live (pk_live_…)",
  test: "Test (pk_test_…)",
};

/** The built-in scopes, with what each allows (the dialogs show the description). */
export const BUILT_IN_SCOPES = [
  { value: "keys:read", description: "List and read keys" },
  { value: "keys:write", description: "Create, change, rotate and revoke keys" },
  { value: "usage:read", description: "Read usage and statistics" },
  { value: "usage:write", description: "Report usage events" },
  { value: "webhooks:read", description: "List webhook endpoints and their deliveries" },
  {
    value: "webhooks:write",
    description: "Create, change and delete webhook endpoints; rotate secrets; resend deliveries",
  },
] as const;
export const KNOWN_SCOPES = BUILT_IN_SCOPES.map((s) => s.value) as [
  (typeof BUILT_IN_SCOPES)[number]["value"],
  ...(typeof BUILT_IN_SCOPES)[number]["value"][],
];
export const MAX_SCOPES = 50;

/** Webhook endpoints per organization: each gets every matching event, so keep fan-out bounded. */
export const WEBHOOK_ENDPOINTS_MAX = 20;
/** A webhook endpoint's description: at most 200 characters. */
export const WEBHOOK_DESCRIPTION_MAX = 200;
/** After a secret rotation the previous secret also signs for this long (PRODUCT.md section 10). */
export const WEBHOOK_PREVIOUS_SECRET_MS = 24 * 3_600_000;

/** How long a rotated key keeps working, in seconds. */
export const GRACE_PERIODS = { none: 0, "1h": 3_600, "24h": 86_400, "7d": 604_800 } as const;
export type GracePeriod = keyof typeof GRACE_PERIODS;
export const GRACE_PERIOD_NAMES = Object.keys(GRACE_PERIODS) as [GracePeriod, ...GracePeriod[]];
export const DEFAULT_GRACE_PERIOD: GracePeriod = "24h";
/** The rotate dialog's words for each grace period. */
export const GRACE_PERIOD_LABELS: Readonly<
  Record<GracePeriod, { label: string; description: string }>
> = {
  none: { label: "Now", description: "The old key stops working at once." },
  "1h": { label: "1 hour", description: "Time to redeploy one service." },
  "24h": { label: "24 hours", description: "The usual choice." },
  "7d": { label: "7 days", description: "For clients you do not control." },
};

// Expiry set from a date (the dashboard's date inputs): the end of that UTC day.
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const END_OF_DAY = "T23:59:59.999Z";

/** True for a `YYYY-MM-DD` date input value. */
export function isDateInput(value: string): boolean {
  return DATE_RE.test(value);
}

/** The end of the UTC day `date` (`YYYY-MM-DD`) names. */
export function endOfUtcDay(date: string): Date {
  return new Date(`${date}${END_OF_DAY}`);
}

/** True when an expiry is exactly the end of its UTC day, as a date input sets it. */
export function isEndOfUtcDay(iso: string): boolean {
  return iso.endsWith(END_OF_DAY);
}

/** The UTC day of a timestamp, as a date input shows it. */
export function utcDay(iso: string): string {
  return iso.slice(0, 10);
}

/** The first day a new expiry may name (tomorrow, UTC): a date input's `min`. */
export function firstExpiryDay(now: number = Date.now()): string {
  return new Date(now + 86_400_000).toISOString().slice(0, 10);
}

/** Dashboard roles, highest first: VIEWER sees, ADMIN and OWNER change. */
export const ROLES = ["OWNER", "ADMIN", "VIEWER"] as const satisfies readonly DbRole[];
export type Role = (typeof ROLES)[number];
export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  OWNER: "Owner",
  ADMIN: "Admin",
  VIEWER: "Viewer",
};

export const PLANS = ["FREE", "PRO", "ENTERPRISE"] as const satisfies readonly DbPlan[];
export type Plan = (typeof PLANS)[number];

// Both lists name every value of the database's enum, and nothing else.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const rolesMatchDatabase: Exactly<Role, DbRole> = true;
const plansMatchDatabase: Exactly<Plan, DbPlan> = true;
void rolesMatchDatabase;
void plansMatchDatabase;

// Webhooks and alerts (PRODUCT.md section 10).

/** Percent of the monthly quota at which `quota.threshold` is sent, once each per UTC month. */
export const QUOTA_THRESHOLDS = [50, 80, 100] as const;
export type QuotaThreshold = (typeof QUOTA_THRESHOLDS)[number];

/** At most one `ratelimit.exceeded` per key per this window. */
export const RATELIMIT_NOTICE_WINDOW_MS = 5 * 60_000;

/** What an owner or admin may choose to be mailed about (Settings, "Email alerts"). */
export const EMAIL_ALERTS = [
  "quota.50",
  "quota.80",
  "quota.100",
  "key.expiring",
  "key.expired",
] as const;
export type EmailAlert = (typeof EMAIL_ALERTS)[number];
export const EMAIL_ALERT_LABELS: Readonly<Record<EmailAlert, string>> = {
  "quota.50": "Monthly quota 50 % used",
  "quota.80": "Monthly quota 80 % used",
  "quota.100": "Monthly quota used up (100 %)",
  "key.expiring": "A key expires in 7 days or in 1 day",
  "key.expired": "A key expired",
};
/** A webhook endpoint's URL: at most this many characters (lib/webhooks/url-policy.ts). */
export const WEBHOOK_URL_MAX_LENGTH = 2048;
/** What a leak report of an organization's key does (PRODUCT.md section 12); REVOKE by default. */
export const LEAK_ACTIONS = ["REVOKE", "NOTIFY"] as const;
export type LeakActionName = (typeof LEAK_ACTIONS)[number];
/** The revocation reason a leak report gives a key (REVOKE policy). */
export const LEAK_REVOKE_REASON = "reported leaked";
export const LEAK_ACTION_LABELS: Readonly<Record<LeakActionName, string>> = {
  REVOKE: "Revoke the key at once",
  NOTIFY: "Flag the key and notify admins only",
};
/** A leak report's bounds: the key field (any string, refused quietly when not a key), where it was seen. */
export const LEAK_REPORT_KEY_MAX = 256;
export const LEAK_SOURCE_MAX = 100;
export const LEAK_URL_MAX = 2048;
/** GitHub secret scanning: tokens per request, and the request body's bound in bytes. */
export const SECRET_SCANNING_MAX_TOKENS = 1000;
export const SECRET_SCANNING_BODY_LIMIT = 1024 * 1024;
/** A key's IP allowlist: at most this many networks (CIDRs; a bare address is one host). */
export const MAX_ALLOWED_CIDRS = 100;

/** The team's own id for a key's owner: 1 to 128 characters of this set. */
export const EXTERNAL_ID_MAX = 128;
export const EXTERNAL_ID_RE = /^[A-Za-z0-9._:@/+=|-]+$/;
export const EXTERNAL_ID_MESSAGE = `Up to ${EXTERNAL_ID_MAX} letters, digits and . _ : @ / + = | -`;

/** A key's `meta`: a JSON object of at most this many bytes as JSON (UTF-8). */
export const META_MAX_BYTES = 4096;

/** The organization's key policy: the longest lifetime it may set, in days (10 years). */
export const KEY_LIFETIME_DAYS_MAX = 3650;
