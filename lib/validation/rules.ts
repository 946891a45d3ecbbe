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
] as const;
export const KNOWN_SCOPES = BUILT_IN_SCOPES.map((s) => s.value) as [
  (typeof BUILT_IN_SCOPES)[number]["value"],
  ...(typeof BUILT_IN_SCOPES)[number]["value"][],
];
export const MAX_SCOPES = 50;

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
