// The table of operator commands: flags, a zod schema for them, and the run
// function, which calls the services (never the database directly).
import { z } from "zod";
import { config } from "@/lib/config";
import type { Db } from "@/lib/db";
import type { Actor } from "@/lib/services/actor";
import {
  EmailSchema,
  OrganizationNameSchema,
  OrganizationSlugRefSchema,
  OrganizationSlugSchema,
  PasswordSchema,
  PersonNameSchema,
  RoleSchema,
} from "@/lib/validation/accounts";
import {
  AllowedCidrsSchema,
  EnvironmentSchema,
  ExternalIdSchema,
  KeyNameSchema,
  MetaSchema,
  PlanSchema,
  RateLimitValueSchema,
  RevokeReasonSchema,
  ScopesSchema,
} from "@/lib/validation/keys";
import {
  CREDIT_REFILL_INTERVALS,
  ENVIRONMENTS,
  KEY_STATUSES,
  PLANS,
  ROLES,
} from "@/lib/validation/rules";
import {
  ServiceCredentialNameSchema,
  ServiceScopesSchema,
} from "@/lib/validation/service-credentials";

export interface CommandContext {
  via: "local" | "socket";
  db: Db;
}
export interface CommandOutput {
  text: string;
  json: unknown;
}
type Flag = { type: "string" | "boolean"; short?: string };
export interface CommandSpec<S extends z.ZodType = z.ZodType> {
  usage: string;
  options: Record<string, Flag>;
  schema: S;
  /** false: the command opens no database (e.g. help). */
  database?: boolean;
  run(input: z.infer<S>, ctx: CommandContext): Promise<CommandOutput>;
}

const cliActor = (): Actor => ({ type: "cli", id: config().USER || "operator" });
const commaList = z
  .string()
  .optional()
  .transform((s) =>
    s
      ? s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean)
      : [],
  );
const jsonFlag = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (s === undefined) return null;
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON object" });
      return z.NEVER;
    }
  });
const str = (opts: string[]) =>
  Object.fromEntries(opts.map((o) => [o, { type: "string" as const }]));
const required = (what: string) => ({
  error: (iss: { input: unknown }) => (iss.input === undefined ? `${what} is required` : undefined),
});

// The flags' bounds are the API's and the dashboard's (lib/validation); `flag` only words the
// missing case for the command line.
const flag = <S extends z.ZodType<unknown, string>>(name: string, schema: S) =>
  z.string(required(name)).pipe(schema);

// Credits and the spend cap, as keys:create and keys:update take them. `none` clears (update).
const BUDGET_FLAGS = ["credits", "refill", "refill-every", "spend-limit"];
const BUDGET_USAGE =
  "[--credits N|none] [--refill N --refill-every day|month] [--spend-limit USD|none]";
const budgetFlags = {
  credits: z.string().optional(),
  refill: z.string().optional(),
  "refill-every": z.enum(CREDIT_REFILL_INTERVALS, { error: "must be day or month" }).optional(),
  "spend-limit": z.string().optional(),
};
type BudgetFlags = { [K in keyof typeof budgetFlags]?: string };

/**
 * The flags as the key service takes them (undefined: not given). Numbers are checked by the
 * service with the API's rules, so the CLI answers the same messages (credits.remaining ...).
 */
function budgetOf(f: BudgetFlags): { credits?: unknown; spendLimitUsd?: string | null } {
  const out: { credits?: unknown; spendLimitUsd?: string | null } = {};
  const num = (v: string) => (/^-?\d+$/.test(v) ? Number(v) : v);
  if (f.credits !== undefined) {
    out.credits =
      f.credits === "none"
        ? null
        : {
            remaining: num(f.credits),
            refill:
              f.refill === undefined || f.refill === "none"
                ? null
                : { amount: num(f.refill), interval: f["refill-every"] ?? "month" },
          };
  }
  if (f["spend-limit"] !== undefined) {
    out.spendLimitUsd = f["spend-limit"] === "none" ? null : f["spend-limit"];
  }
  return out;
}

function define<S extends z.ZodType>(spec: CommandSpec<S>): CommandSpec<S> {
  return spec;
}

export const COMMANDS = {
  "org:create": define({
    usage: `--name NAME --email EMAIL [--plan ${PLANS.join("|")}] [--slug SLUG]`,
    options: str(["name", "email", "plan", "slug"]),
    schema: z.object({
      name: flag("--name", OrganizationNameSchema),
      email: flag("--email", EmailSchema),
      plan: PlanSchema.default("FREE"),
      slug: OrganizationSlugSchema.optional(),
    }),
    async run(input, { db }) {
      const { createOrganization } = await import("@/lib/services/org-service");
      const org = await createOrganization(db, input, cliActor());
      return {
        text: `created organization ${org.slug} (${org.id}), plan ${org.plan}`,
        json: org,
      };
    },
  }),

  "user:create": define({
    usage: `--email EMAIL --password PASSWORD --org SLUG [--role ${ROLES.join("|")}] [--name NAME]`,
    options: str(["email", "password", "org", "role", "name"]),
    schema: z.object({
      email: flag("--email", EmailSchema),
      password: flag("--password", PasswordSchema),
      org: flag("--org", OrganizationSlugRefSchema),
      role: RoleSchema.default("ADMIN"),
      name: PersonNameSchema.optional(),
    }),
    async run(input, { db }) {
      const { createUserInOrganization } = await import("@/lib/services/user-service");
      const { user, membership } = await createUserInOrganization(db, input, cliActor());
      return {
        text: `created user ${user.email} (${user.id}) as ${membership.role} of ${input.org}`,
        json: {
          id: user.id,
          email: user.email,
          name: user.name,
          organization: input.org,
          role: membership.role,
        },
      };
    },
  }),

  "keys:create": define({
    usage: `--org SLUG --name NAME --env ${ENVIRONMENTS.join("|")} [--scopes a,b] [--expires ISO-DATE|30d] [--rate-limit N] [--cidrs 203.0.113.0/24,2001:db8::/32] [--external-id ID] [--meta JSON] ${BUDGET_USAGE}`,
    options: str([
      "org",
      "name",
      "env",
      "scopes",
      "expires",
      "rate-limit",
      "cidrs",
      "external-id",
      "meta",
      ...BUDGET_FLAGS,
    ]),
    schema: z.object({
      ...budgetFlags,
      org: flag("--org", OrganizationSlugRefSchema),
      name: flag("--name", KeyNameSchema),
      env: flag("--env", EnvironmentSchema),
      scopes: z
        .string()
        .optional()
        .transform((s) =>
          s
            ? s
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean)
            : [],
        )
        .pipe(ScopesSchema),
      expires: z
        .string()
        .optional()
        .transform((s, ctx) => {
          if (!s) return null;
          const rel = /^(\d+)([dh])$/.exec(s);
          const d = rel
            ? new Date(Date.now() + Number(rel[1]) * (rel[2] === "d" ? 86_400_000 : 3_600_000))
            : new Date(s);
          // Within what a timestamp column and the key service take (it refuses past dates and
          // more than 10 years ahead with its own message).
          if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999) {
            ctx.addIssue({
              code: "custom",
              message: "must be an ISO date or a duration like 30d / 12h",
            });
            return z.NEVER;
          }
          return d;
        }),
      "rate-limit": z.coerce.number().pipe(RateLimitValueSchema).optional(),
      cidrs: commaList.pipe(AllowedCidrsSchema),
      "external-id": ExternalIdSchema.optional(),
      meta: jsonFlag.pipe(MetaSchema.nullable()),
    }),
    async run(input, { db }) {
      const { getOrganizationBySlug } = await import("@/lib/services/org-service");
      const { createKey } = await import("@/lib/services/keys");
      const org = await getOrganizationBySlug(db, input.org);
      const created = await createKey(
        db,
        {
          organizationId: org.id,
          name: input.name,
          environment: input.env,
          scopes: input.scopes,
          expiresAt: input.expires,
          rateLimitPerMinute: input["rate-limit"] ?? null,
          ...(budgetOf(input) as { credits?: null; spendLimitUsd?: string | null }),
          allowedCidrs: input.cidrs,
          externalId: input["external-id"] ?? null,
          meta: input.meta,
        },
        cliActor(),
      );
      const { key, apiKey } = created;
      return {
        text: `${key}\n(shown once: store it now) id ${apiKey.id}, ${apiKey.environment}, scopes ${apiKey.scopes.join(",") || "(none)"}`,
        json: { ...apiKey, key },
      };
    },
  }),

  "keys:list": define({
    usage: `--org SLUG [--env ${ENVIRONMENTS.join("|")}] [--status ${KEY_STATUSES.join("|")}] [--external-id ID] [--limit N]`,
    options: str(["org", "env", "status", "external-id", "limit"]),
    schema: z.object({
      org: flag("--org", OrganizationSlugRefSchema),
      env: EnvironmentSchema.optional(),
      status: z
        .enum(KEY_STATUSES, {
          error: `must be ${KEY_STATUSES.slice(0, -1).join(", ")} or ${KEY_STATUSES.at(-1)} (lowercase)`,
        })
        .optional(),
      "external-id": ExternalIdSchema.optional(),
      limit: z.coerce.number().int().min(1).max(100_000).default(100),
    }),
    async run(input, { db }) {
      const { getOrganizationBySlug } = await import("@/lib/services/org-service");
      const { listKeys } = await import("@/lib/services/keys");
      const org = await getOrganizationBySlug(db, input.org);
      // The repository pages at most 200 at a time: follow the cursor up to --limit.
      const keys: Awaited<ReturnType<typeof listKeys>>["items"] = [];
      let cursor: string | null = null;
      do {
        const page = await listKeys(db, org.id, {
          environment: input.env,
          status: input.status,
          externalId: input["external-id"],
          limit: Math.min(200, input.limit - keys.length),
          cursor,
        });
        keys.push(...page.items);
        cursor = page.nextCursor ?? null;
      } while (cursor && keys.length < input.limit);
      const page = { nextCursor: cursor };
      const text = keys.length
        ? keys
            .map((k) => `${k.id}  ${k.prefix}…${k.hint}  ${k.status.padEnd(7)}  ${k.name}`)
            .join("\n")
        : "no keys";
      return { text, json: { keys, nextCursor: page.nextCursor ?? null } };
    },
  }),

  "keys:update": define({
    usage: `--org SLUG --id KEY_ID ${BUDGET_USAGE}  credits (sets the live balance) and spend cap`,
    options: str(["org", "id", ...BUDGET_FLAGS]),
    schema: z.object({
      ...budgetFlags,
      org: flag("--org", OrganizationSlugRefSchema),
      id: z.uuid({
        error: (iss) => (iss.input === undefined ? "--id is required" : "is not a key id"),
      }),
    }),
    async run(input, { db }) {
      const { getOrganizationBySlug } = await import("@/lib/services/org-service");
      const { updateKey } = await import("@/lib/services/keys");
      const org = await getOrganizationBySlug(db, input.org);
      const budget = budgetOf(input) as { credits?: null; spendLimitUsd?: string | null };
      const key = await updateKey(db, org.id, input.id, budget, cliActor());
      const credits = key.credits
        ? `${key.credits.remaining} credits${key.credits.refill ? `, refill ${key.credits.refill.amount} each ${key.credits.refill.interval}` : ""}`
        : "no credits";
      return {
        text: `updated ${key.id}: ${credits}; spend limit ${key.spendLimitUsd ?? "none"}`,
        json: key,
      };
    },
  }),

  "keys:revoke": define({
    usage: "--id KEY_ID --reason TEXT [--org SLUG]",
    options: str(["id", "reason", "org"]),
    schema: z.object({
      id: z.uuid({
        error: (iss) => (iss.input === undefined ? "--id is required" : "is not a key id"),
      }),
      reason: flag("--reason", RevokeReasonSchema),
      org: OrganizationSlugRefSchema.optional(),
    }),
    async run(input, { db }) {
      const { revokeKeyById } = await import("@/lib/services/keys");
      const key = await revokeKeyById(
        db,
        { keyId: input.id, orgSlug: input.org, reason: input.reason },
        cliActor(),
      );
      return { text: `revoked ${key.id} (${key.prefix}…${key.hint})`, json: key };
    },
  }),

  "service:create": define({
    usage: "--name NAME [--scopes usage:report] [--org SLUG] a credential to report usage for keys",
    options: str(["name", "scopes", "org"]),
    schema: z.object({
      name: flag("--name", ServiceCredentialNameSchema),
      scopes: z
        .string()
        .default("usage:report")
        .transform((s) =>
          s
            .split(",")
            .map((x) => x.trim())
            .filter(Boolean),
        )
        .pipe(ServiceScopesSchema),
      org: OrganizationSlugRefSchema.optional(),
    }),
    async run(input, { db }) {
      const { createServiceCredential } = await import("@/lib/services/service-credentials");
      const { credential, secret } = await createServiceCredential(
        db,
        { name: input.name, scopes: input.scopes, orgSlug: input.org },
        cliActor(),
      );
      const covers = credential.organization
        ? `organization ${credential.organization}`
        : "every organization";
      return {
        text: `${secret}\n(shown once: store it now) id ${credential.id}, scopes ${credential.scopes.join(",")}, ${covers}`,
        json: {
          id: credential.id,
          name: credential.name,
          secret,
          scopes: credential.scopes,
          organization: credential.organization,
        },
      };
    },
  }),

  "service:list": define({
    usage: "[--limit N] the service credentials, newest first (never their secrets)",
    options: str(["limit"]),
    schema: z.object({
      limit: z.coerce.number().int().min(1).max(100_000).default(100),
    }),
    async run(input, { db }) {
      const { listServiceCredentials } = await import("@/lib/services/service-credentials");
      type Item = Awaited<ReturnType<typeof listServiceCredentials>>["items"][number];
      const items: Item[] = [];
      let cursor: string | null = null;
      do {
        const page = await listServiceCredentials(db, {
          limit: Math.min(200, input.limit - items.length),
          cursor,
        });
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < input.limit);
      const text = items.length
        ? items
            .map(
              (c) =>
                `${c.id}  ${c.prefix}…${c.hint}  ${c.status.padEnd(7)}  ${(c.organization ?? "(all)").padEnd(20)}  ${c.name}`,
            )
            .join("\n")
        : "no service credentials";
      return { text, json: { serviceCredentials: items, nextCursor: cursor } };
    },
  }),

  "service:revoke": define({
    usage: "--id ID revoke a service credential (refused from its next request)",
    options: str(["id"]),
    schema: z.object({
      id: z.uuid({
        error: (iss) =>
          iss.input === undefined ? "--id is required" : "is not a service credential id",
      }),
    }),
    async run(input, { db }) {
      const { revokeServiceCredential } = await import("@/lib/services/service-credentials");
      const c = await revokeServiceCredential(db, input.id, cliActor());
      return { text: `revoked ${c.id} (${c.prefix}…${c.hint}) ${c.name}`, json: c };
    },
  }),

  "signin:unlock": define({
    usage: "--email EMAIL [--address IP] forget failed sign-ins (the 15-minute throttle)",
    options: str(["email", "address"]),
    schema: z
      .object({
        email: z.email("is not a valid email address").optional(),
        address: z.string().trim().min(1).max(100).optional(),
      })
      .refine((v) => v.email || v.address, "--email or --address is required"),
    database: false,
    async run(input, { via }) {
      // The counters live in the rate-limit store: with the in-process store only the running
      // app holds them (reached over its socket); PostgreSQL and Redis are shared by everyone.
      const { signInThrottle } = await import("@/lib/auth/sign-in-throttle");
      const { getRateLimiter } = await import("@/lib/ratelimit");
      const store = getRateLimiter().kind;
      await signInThrottle().clear(input);
      const what = [input.email, input.address].filter(Boolean).join(" and ");
      const note =
        via === "local" && store === "memory" ? " (in-process store: no app running held any)" : "";
      return {
        text: `cleared failed sign-ins for ${what} in the ${store} store${note}`,
        json: { ok: true, store, email: input.email ?? null, address: input.address ?? null },
      };
    },
  }),

  "db:migrate": define({
    usage: "apply pending migrations (the app also migrates on start)",
    options: {},
    schema: z.object({}),
    async run(_input, { via }) {
      // Opening the database (getDatabase) already applied pending migrations.
      return {
        text:
          via === "socket"
            ? "database is up to date (migrated by the running app)"
            : "database is up to date",
        json: { ok: true },
      };
    },
  }),

  "db:status": define({
    usage: "show which migrations are applied",
    options: {},
    schema: z.object({}),
    async run(_input, { db }) {
      const rows = await db.$queryRaw<{ migration_name: string; finished_at: Date | null }[]>`
        SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY started_at`;
      return {
        text: rows
          .map((r) => `${r.finished_at ? "applied" : "FAILED "}  ${r.migration_name}`)
          .join("\n"),
        json: { migrations: rows },
      };
    },
  }),

  "db:seed": define({
    usage: "[--force] create the demo organization, its owner, keys and 30 days of usage",
    options: { force: { type: "boolean" } },
    schema: z.object({ force: z.boolean().optional() }),
    async run(input, { db }) {
      const { seedDemo } = await import("./seed");
      const r = await seedDemo(db, { force: input.force === true });
      if (!r.created) {
        return {
          text: `the demo organization "${r.slug}" exists already (use --force to add another)`,
          json: r,
        };
      }
      return {
        text: `seeded "${r.slug}": owner ${r.email} / ${r.password}, ${r.keys} keys, ${r.usageEvents} usage events`,
        json: r,
      };
    },
  }),
} satisfies Record<string, CommandSpec>;
