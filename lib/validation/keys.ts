// API key shapes, written once: request parsing, the derived update (`.partial()`), the output
// filter (what leaves the server) and the OpenAPI document all come from these.
import { parseCidr } from "@/lib/net/cidr";
import { DateTimeInputSchema, DateTimeSchema, UuidSchema } from "./common";
import { KeyLeakSchema } from "./leaks";
import {
  CREDIT_REFILL_INTERVALS,
  CREDITS_MAX,
  ENVIRONMENTS,
  EXTERNAL_ID_MAX,
  EXTERNAL_ID_MESSAGE,
  EXTERNAL_ID_RE,
  endOfUtcDay,
  GRACE_PERIOD_NAMES,
  isDateInput,
  isSpendLimitUsd,
  KEY_LIFETIME_DAYS_MAX,
  KEY_NAME_MAX,
  KEY_STATUSES,
  KNOWN_SCOPES,
  MAX_ALLOWED_CIDRS,
  MAX_SCOPES,
  META_MAX_BYTES,
  PLANS,
  RATE_LIMIT_PER_MINUTE_MAX,
  RATE_LIMIT_PER_MINUTE_MIN,
  REVOKE_REASON_MAX,
  SPEND_LIMIT_USD_MAX,
  VERIFY_COST_MAX,
} from "./rules";
import { isStorableText, safeText } from "./text";
import { z } from "./zod";

export {
  GRACE_PERIODS,
  type GracePeriod,
  KEY_NAME_MAX,
  KNOWN_SCOPES,
} from "./rules";

/** Custom scopes: `resource:action` (more `:parts` allowed), lowercase, for the team's own API. */
export const CUSTOM_SCOPE_RE = /^[a-z][a-z0-9_-]*(?::[a-z0-9_*-]+){1,3}$/;

export const ScopeSchema = z
  .string()
  .min(3)
  .max(64)
  .regex(CUSTOM_SCOPE_RE, "A scope looks like `resource:action` (lowercase, digits, _ and -).")
  .openapi({
    description: `Built in: ${KNOWN_SCOPES.join(", ")}; or your own \`resource:action\`.`,
    example: "keys:read",
  });

export const ScopesSchema = z
  .array(ScopeSchema)
  .max(MAX_SCOPES, `At most ${MAX_SCOPES} scopes.`)
  .refine((a) => new Set(a).size === a.length, "Scopes must not repeat.")
  .openapi({ example: ["keys:read", "usage:read"] });

export const EnvironmentSchema = z
  .enum(ENVIRONMENTS, { error: "Use live or test." })
  .openapi("Environment");

export const KeyStatusSchema = z.enum(KEY_STATUSES).openapi("KeyStatus");

export const KeyNameSchema = safeText({
  min: 1,
  max: KEY_NAME_MAX,
  messages: {
    min: "Name the key, e.g. billing-service.",
    max: `Use at most ${KEY_NAME_MAX} characters.`,
  },
}).openapi({ example: "billing-service" });

const RATE_LIMIT_MESSAGE = `Between ${RATE_LIMIT_PER_MINUTE_MIN} and ${RATE_LIMIT_PER_MINUTE_MAX.toLocaleString("en-US")} requests per minute.`;

/** Requests per minute for one key (the plan's limit when absent). */
export const RateLimitValueSchema = z
  .int()
  .min(RATE_LIMIT_PER_MINUTE_MIN, RATE_LIMIT_MESSAGE)
  .max(RATE_LIMIT_PER_MINUTE_MAX, RATE_LIMIT_MESSAGE);

export const RateLimitPerMinuteSchema = RateLimitValueSchema.nullable().openapi({
  description: "Requests per minute for this key; null means the plan's limit.",
});

const CREDITS_MESSAGE = `A whole number from 0 to ${CREDITS_MAX.toLocaleString("en-US")}.`;

export const CreditRefillSchema = z
  .object({
    amount: z.int(CREDITS_MESSAGE).min(1, CREDITS_MESSAGE).max(CREDITS_MAX, CREDITS_MESSAGE),
    interval: z.enum(CREDIT_REFILL_INTERVALS, { error: "Use day or month." }),
  })
  .openapi("CreditRefill", {
    description: "The balance is set to `amount` at the start of each UTC day or month.",
  });

/** A key's credits as they are set: the balance now, and the refill. */
export const CreditsInputSchema = z
  .object({
    remaining: z.int(CREDITS_MESSAGE).min(0, CREDITS_MESSAGE).max(CREDITS_MAX, CREDITS_MESSAGE),
    refill: CreditRefillSchema.nullable().optional(),
  })
  .nullable()
  .openapi("CreditsInput", {
    description:
      "Credits each verify spends (`cost`, default 1); refused with CREDITS_EXHAUSTED when too few are left. Setting `remaining` sets the live balance. null: no credits.",
  });

const SPEND_LIMIT_MESSAGE = `A USD amount above 0 and at most ${SPEND_LIMIT_USD_MAX.toLocaleString("en-US")}, up to 6 decimals, e.g. "25.50".`;

export const SpendLimitUsdSchema = z
  .string(SPEND_LIMIT_MESSAGE)
  .refine(isSpendLimitUsd, SPEND_LIMIT_MESSAGE)
  .nullable()
  .openapi({
    description:
      "Cap on the metered costUsd per calendar month (UTC), a decimal string; null: none. Past it verify answers SPEND_LIMIT_EXCEEDED.",
    example: "25.00",
  });

/** One network of an allowlist, normalized (`10.1.2.3/8` -> `10.0.0.0/8`, a bare address -> /32 or /128). */
export const CidrSchema = z
  .string()
  .max(64, "At most 64 characters.")
  .transform((v, ctx) => {
    const r = parseCidr(v);
    if (r.ok) return r.cidr;
    ctx.addIssue({ code: "custom", message: r.message, input: v });
    return z.NEVER;
  });

export const AllowedCidrsSchema = z
  .array(CidrSchema)
  .max(MAX_ALLOWED_CIDRS, `At most ${MAX_ALLOWED_CIDRS} networks.`)
  .transform((list) => [...new Set(list)])
  .openapi({
    description: `Networks (IPv4 and IPv6 CIDRs; a bare address is one host) the key may be used from, at most ${MAX_ALLOWED_CIDRS}; stored normalized. Empty: anywhere. Routes the key calls itself check the caller's address; verify checks \`ip\`.`,
    example: ["203.0.113.0/24", "2001:db8::/32"],
  });

export const ExternalIdSchema = z
  .string()
  .min(1, EXTERNAL_ID_MESSAGE)
  .max(EXTERNAL_ID_MAX, EXTERNAL_ID_MESSAGE)
  .regex(EXTERNAL_ID_RE, EXTERNAL_ID_MESSAGE)
  .openapi({
    description: "Your own id for the key's owner (a user, a team); filter the list by it.",
    example: "user_1234",
  });

function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

// Every string and key PostgreSQL's jsonb can store (no NUL, no unpaired surrogate).
function storableJson(value: unknown): boolean {
  if (typeof value === "string") return isStorableText(value);
  if (Array.isArray(value)) return value.every(storableJson);
  if (value && typeof value === "object") {
    return Object.entries(value).every(([k, v]) => isStorableText(k) && storableJson(v));
  }
  return true;
}

// The values are `unknown` to zod (its recursive z.json() overflows the OpenAPI generator): every
// path that reaches here parsed JSON text (a request body, a textarea, a CLI flag), so they are
// JSON values; the size and storability checks below walk them.
export const MetaSchema = z
  .record(z.string(), z.unknown())
  .refine((v) => jsonBytes(v) <= META_MAX_BYTES, `At most ${META_MAX_BYTES} bytes as JSON.`)
  .refine(storableJson, "Text in meta must not contain NUL or unpaired surrogates.")
  .openapi({
    description: `Your own JSON object (at most ${META_MAX_BYTES} bytes as JSON), returned by verify.`,
    example: { plan: "pro", userId: "u_42" },
  });

/** The editable fields of a key, once. */
const KeyFieldsSchema = z.object({
  name: KeyNameSchema,
  environment: EnvironmentSchema,
  scopes: ScopesSchema,
  expiresAt: DateTimeInputSchema.nullable().openapi({
    description: "When the key stops working; null: never.",
  }),
  rateLimitPerMinute: RateLimitPerMinuteSchema,
  credits: CreditsInputSchema,
  spendLimitUsd: SpendLimitUsdSchema,
  allowedCidrs: AllowedCidrsSchema,
  externalId: ExternalIdSchema.nullable(),
  meta: MetaSchema.nullable(),
});

export const CreateKeyBodySchema = KeyFieldsSchema.extend({
  environment: EnvironmentSchema.optional().openapi({
    description: "Defaults to the calling key's environment. A test key creates test keys only.",
  }),
  scopes: ScopesSchema.optional(),
  expiresAt: KeyFieldsSchema.shape.expiresAt.optional(),
  rateLimitPerMinute: RateLimitPerMinuteSchema.optional(),
  credits: CreditsInputSchema.optional(),
  spendLimitUsd: SpendLimitUsdSchema.optional(),
  allowedCidrs: AllowedCidrsSchema.optional(),
  externalId: KeyFieldsSchema.shape.externalId.optional(),
  meta: KeyFieldsSchema.shape.meta.optional(),
}).openapi("CreateKeyRequest");

export const UpdateKeyBodySchema = KeyFieldsSchema.omit({ environment: true })
  .partial()
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message:
      "Send at least one of name, scopes, expiresAt, rateLimitPerMinute, credits, spendLimitUsd, allowedCidrs, externalId, meta.",
  })
  .openapi("UpdateKeyRequest");

/** Why a key was revoked, for the audit log: free text, line breaks allowed. */
export const RevokeReasonSchema = safeText({
  min: 1,
  max: REVOKE_REASON_MAX,
  multiline: true,
  messages: { max: `Use at most ${REVOKE_REASON_MAX} characters.` },
}).openapi({ example: "Leaked in a CI log." });

export const RevokeKeyBodySchema = z
  .object({ reason: RevokeReasonSchema.optional() })
  .openapi("RevokeKeyRequest");

export const GracePeriodSchema = z
  .enum(GRACE_PERIOD_NAMES, { error: "Choose how long the old key keeps working." })
  .openapi({
    description: "How long the old key keeps working (never past its own expiry).",
  });

export const RotateKeyBodySchema = z
  .object({ gracePeriod: GracePeriodSchema.default("24h") })
  .openapi("RotateKeyRequest");

const LIFETIME_MESSAGE = `A whole number of days, 1 to ${KEY_LIFETIME_DAYS_MAX}.`;

/** The organization's key policy (owners set it; create and rotate enforce it). */
export const KeyPolicySchema = z
  .object({
    maxKeyLifetimeDays: z
      .int(LIFETIME_MESSAGE)
      .min(1, LIFETIME_MESSAGE)
      .max(KEY_LIFETIME_DAYS_MAX, LIFETIME_MESSAGE)
      .nullable()
      .openapi({ description: "The longest a new key may live, in days; null: no limit." }),
    keyExpiryRequired: z.boolean().openapi({ description: "Every new key needs an expiry." }),
    liveKeysAdminsOnly: z.boolean().openapi({
      description: "Only admins and owners (in the dashboard) and the operator make live keys.",
    }),
  })
  .openapi("KeyPolicy");

/** The settings form's lifetime input: empty for no limit. */
export const KeyLifetimeFieldSchema = z
  .string()
  .trim()
  .refine((v) => v === "" || /^\d{1,5}$/.test(v), `${LIFETIME_MESSAGE} Or leave it empty.`)
  .transform((v) => (v === "" ? null : Number(v)))
  .pipe(KeyPolicySchema.shape.maxKeyLifetimeDays);

export const PlanSchema = z.enum(PLANS, { error: `Use ${PLANS.join(", ")}.` });

// The dashboard's form fields: what a date or number input sends (a string, empty when left
// blank), turned into the values the schemas above take.

const DATE_MESSAGE = "Use a date like 2026-12-31.";

/** A date input's value: the end of that UTC day, or null (empty) for "never". */
export const ExpiryDateFieldSchema = z
  .string()
  .trim()
  .refine((v) => v === "" || isDateInput(v), DATE_MESSAGE)
  .transform((v) => (v ? endOfUtcDay(v) : null))
  .refine((d) => d === null || !Number.isNaN(d.getTime()), DATE_MESSAGE)
  .refine((d) => d === null || d.getTime() > Date.now(), "Pick a date in the future.");

/**
 * A rate limit input's value: null (empty) for the plan's. The key service holds it to the
 * organization's plan limit; only the operator CLI may go past the plan.
 */
export const RateLimitFieldSchema = z
  .string()
  .trim()
  .refine((v) => v === "" || /^\d{1,7}$/.test(v), "Use a whole number, or leave it empty.")
  .transform((v) => (v === "" ? null : Number(v)))
  .refine(
    (n) => n === null || RateLimitValueSchema.safeParse(n).success,
    `${RATE_LIMIT_MESSAGE.slice(0, -1)}, or empty for the plan's limit.`,
  );

const WHOLE_OR_EMPTY = "Use a whole number, or leave it empty.";
const wholeOrEmpty = z
  .string()
  .trim()
  .refine((v) => v === "" || /^\d{1,10}$/.test(v), WHOLE_OR_EMPTY)
  .transform((v) => (v === "" ? null : Number(v)));

/**
 * The credit and spend cap inputs of the key dialogs (components/keys/credit-fields.tsx): empty
 * credits means none, an empty refill amount no refill, an empty cap none. Gives the service's
 * `credits` and `spendLimitUsd`; errors name the form's fields.
 */
export const BudgetFieldsSchema = z
  .object({
    credits: wholeOrEmpty,
    creditsRefillAmount: wholeOrEmpty,
    creditsRefillInterval: z.enum(CREDIT_REFILL_INTERVALS, { error: "Use day or month." }),
    spendLimitUsd: z
      .string()
      .trim()
      .refine((v) => v === "" || isSpendLimitUsd(v), SPEND_LIMIT_MESSAGE)
      .transform((v) => (v === "" ? null : v)),
  })
  .superRefine((v, ctx) => {
    if (v.credits !== null && v.credits > CREDITS_MAX) {
      ctx.addIssue({ code: "custom", path: ["credits"], message: CREDITS_MESSAGE });
    }
    if (v.creditsRefillAmount !== null) {
      if (v.credits === null) {
        ctx.addIssue({
          code: "custom",
          path: ["creditsRefillAmount"],
          message: "Set the credits too (what the key starts with).",
        });
      } else if (v.creditsRefillAmount < 1 || v.creditsRefillAmount > CREDITS_MAX) {
        ctx.addIssue({
          code: "custom",
          path: ["creditsRefillAmount"],
          message: `From 1 to ${CREDITS_MAX.toLocaleString("en-US")}, or empty for no refill.`,
        });
      }
    }
  })
  .transform((v) => ({
    credits:
      v.credits === null
        ? null
        : {
            remaining: v.credits,
            refill:
              v.creditsRefillAmount === null
                ? null
                : { amount: v.creditsRefillAmount, interval: v.creditsRefillInterval },
          },
    spendLimitUsd: v.spendLimitUsd,
  }));

/** An opaque page cursor (base64url), as `nextCursor` gives it. */
export const CursorSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, "Not a cursor this API gave out.")
  .openapi({ description: "`nextCursor` of the previous page." });

/** The dashboard's search by key name: what a name may hold, possibly empty. */
export const KeySearchSchema = safeText({ max: KEY_NAME_MAX });

export const ListKeysQuerySchema = z.object({
  environment: EnvironmentSchema.optional(),
  status: KeyStatusSchema.optional(),
  externalId: ExternalIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: CursorSchema.optional(),
});

/** What leaves the server about a key: never the hash, never the plaintext. */
export const KeySchema = z
  .object({
    id: UuidSchema,
    name: z.string(),
    prefix: z.string().openapi({ example: "pk_live_" }),
    hint: z.string().openapi({ example: "x9Q_", description: "The key's last 4 characters." }),
    environment: EnvironmentSchema,
    status: KeyStatusSchema,
    scopes: z.array(z.string()),
    expiresAt: DateTimeSchema.nullable(),
    rateLimitPerMinute: z.int().nullable(),
    lastUsedAt: DateTimeSchema.nullable(),
    requestCount: z.int(),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
    revokedAt: DateTimeSchema.nullable(),
    revokedReason: z.string().nullable(),
    rotatedToId: UuidSchema.nullable(),
    credits: z
      .object({
        remaining: z.int().openapi({ description: "The live balance." }),
        refill: CreditRefillSchema.nullable(),
      })
      .nullable()
      .openapi("Credits"),
    spendLimitUsd: z.string().nullable().openapi({ example: "25.000000" }),
    leak: KeyLeakSchema.nullable().openapi({
      description: "Set when the key was reported leaked (POST /api/v1/keys/leaked, GitHub).",
    }),
    allowedCidrs: z.array(z.string()),
    externalId: z.string().nullable(),
    meta: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("Key");
export type KeyOutput = z.infer<typeof KeySchema>;

export const CreatedKeySchema = KeySchema.extend({
  key: z.string().openapi({
    description: "The whole key. Shown this once; store it now.",
    example: "pk_live_3q2-7wE9yXbQm0fJdLr8sVt1uZk4nHc6aPg5oIe_x9Q_",
  }),
}).openapi("CreatedKey");

export const RotatedKeySchema = CreatedKeySchema.extend({
  previousKey: KeySchema,
}).openapi("RotatedKey");

export const KeyListSchema = z
  .object({ data: z.array(KeySchema), nextCursor: z.string().nullable() })
  .openapi("KeyList");

export const VerifyBodySchema = z
  .object({
    key: z
      .string()
      .max(512)
      .openapi({ example: "pk_live_3q2-7wE9yXbQm0fJdLr8sVt1uZk4nHc6aPg5oIe_x9Q_" }),
    scopes: z
      .array(safeText({ min: 1, max: 64, trim: false }))
      .max(MAX_SCOPES)
      .optional()
      .openapi({
        description: "Scopes the key must all hold.",
      }),
    cost: z
      .int("A whole number.")
      .min(0, "At least 0.")
      .max(VERIFY_COST_MAX, `At most ${VERIFY_COST_MAX.toLocaleString("en-US")}.`)
      .optional()
      .openapi({
        description:
          "Credits this request spends from a key that has credits (default 1; 0 checks only).",
      }),
    ip: safeText({ max: 64 }).optional().openapi({
      description:
        "The end client's address as your service saw it. A key with `allowedCidrs` is valid only when it is inside one of them (missing or not an address: IP_NOT_ALLOWED).",
      example: "203.0.113.7",
    }),
  })
  .openapi("VerifyRequest");

export const VERIFY_CODES = [
  "VALID",
  "INVALID_FORMAT",
  "NOT_FOUND",
  "REVOKED",
  "EXPIRED",
  "INSUFFICIENT_SCOPE",
  "IP_NOT_ALLOWED",
  "RATE_LIMITED",
  "QUOTA_EXCEEDED",
  "ORG_INACTIVE",
  "CREDITS_EXHAUSTED",
  "SPEND_LIMIT_EXCEEDED",
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

export const RateLimitStateSchema = z
  .object({
    limit: z.int(),
    remaining: z.int(),
    reset: z.int().openapi({ description: "Seconds until the window resets." }),
  })
  .openapi("RateLimitState");

export const VerifyResultSchema = z
  .object({
    valid: z.boolean(),
    code: z.enum(VERIFY_CODES),
    keyId: UuidSchema.nullable(),
    organizationId: UuidSchema.nullable(),
    environment: EnvironmentSchema.nullable(),
    scopes: z.array(z.string()),
    expiresAt: DateTimeSchema.nullable(),
    ratelimit: RateLimitStateSchema.nullable(),
    credits: z
      .object({ remaining: z.int().openapi({ description: "The balance after this request." }) })
      .nullable()
      .openapi({ description: "For a key with credits; null otherwise." }),
    externalId: z.string().nullable().openapi({ description: "The key's `externalId`." }),
    meta: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "The key's `meta`, so your service needs no second lookup." }),
  })
  .openapi("VerifyResult");
export type VerifyResultOutput = z.infer<typeof VerifyResultSchema>;

export const MeSchema = z
  .object({
    id: UuidSchema,
    name: z.string(),
    prefix: z.string(),
    hint: z.string(),
    environment: EnvironmentSchema,
    scopes: z.array(z.string()),
    expiresAt: DateTimeSchema.nullable(),
    organization: z.object({
      id: UuidSchema,
      name: z.string(),
      slug: z.string(),
      plan: PlanSchema,
    }),
    limits: z.object({
      rateLimitPerMinute: z.int().openapi({ description: "This key's effective limit." }),
      monthlyQuota: z.int(),
      maxActiveKeys: z.int(),
    }),
    usage: z.object({
      month: z.string().openapi({ example: "2026-11" }),
      requests: z.int().openapi({
        description: "Requests counted against the organization's monthly quota this month.",
      }),
      quotaRemaining: z.int(),
    }),
  })
  .openapi("Me");

/** The dialogs' allowlist textarea: one network per line (blank lines ignored), an error per bad line. */
export const CidrLinesFieldSchema = z.string().transform((text, ctx) => {
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({ line: i + 1, value: l.trim() }))
    .filter((l) => l.value !== "");
  const out: string[] = [];
  for (const { line, value } of lines) {
    const r = parseCidr(value);
    if (r.ok) out.push(r.cidr);
    else
      ctx.addIssue({
        code: "custom",
        message: `Line ${line} (${value.slice(0, 50)}): ${r.message}`,
        input: value,
      });
  }
  if (out.length > MAX_ALLOWED_CIDRS) {
    ctx.addIssue({
      code: "custom",
      message: `At most ${MAX_ALLOWED_CIDRS} networks.`,
      input: text,
    });
  }
  return [...new Set(out)];
});

/** The dialogs' external id input: empty for none. */
export const ExternalIdFieldSchema = z
  .string()
  .trim()
  .transform((v) => (v === "" ? null : v))
  .pipe(ExternalIdSchema.nullable());

/** The dialogs' metadata textarea: a JSON object, or empty for none. */
export const MetaFieldSchema = z
  .string()
  .transform((text, ctx) => {
    if (text.trim() === "") return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      ctx.addIssue({
        code: "custom",
        message: `Not valid JSON: ${e instanceof Error ? e.message : "parse error"}`,
        input: text,
      });
      return z.NEVER;
    }
  })
  .pipe(
    z.custom<unknown>(
      (v) => v === null || (typeof v === "object" && !Array.isArray(v)),
      'Use a JSON object, e.g. {"plan": "pro"}.',
    ),
  )
  .pipe(MetaSchema.nullable());
