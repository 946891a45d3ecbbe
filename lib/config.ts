// Keyward's configuration, and the one reader of process.env in the app's own code. The
// first read loads `.env` from the working directory (variables already in the real
// environment win), so the server, the CLI and migrations all see the same settings before
// anything opens a database; every value is validated, and an error names its variable.
//
// Read by the framework itself, not through here: NODE_ENV (Next sets it; next.config.ts
// reads it), NEXT_MANUAL_SIG_HANDLE and NEXT_TELEMETRY_DISABLED (written into the real
// environment by scripts/start.ts before Next loads), PRISMA_SCHEMA_ENGINE_BINARY
// (prisma.config.ts, the Prisma CLI's). Auth.js also reads its own AUTH_* variables.
// scripts/ensure-built.ts passes the environment on to `next build`; scripts/test.mjs (plain
// Node, the test runner) reads CHROMIUM_PATH.
import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/** A configuration error: one line naming each bad variable. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
}

const shown = (input: unknown) =>
  typeof input === "string" && input.length <= 40 ? ` (got "${input}")` : "";

const flag = (fallback: boolean) =>
  z
    .enum(["0", "1", "true", "false"], {
      error: (iss) => `must be 1 or 0${shown(iss.input)}`,
    })
    .transform((v) => v === "1" || v === "true")
    .default(fallback);

const urlWithScheme = (schemes: string[], what: string) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    // Never echo a URL: it may carry a password.
    { error: `must be a ${what} URL` },
  );

const millis = (min: number, max: number, fallback: number) =>
  z
    .string()
    .refine((v) => /^\d{1,8}$/.test(v) && Number(v) >= min && Number(v) <= max, {
      error: (iss) =>
        `must be a whole number of milliseconds from ${min} to ${max}${shown(iss.input)}`,
    })
    .transform(Number)
    .default(fallback);

const schema = z
  .object({
    DATABASE_URL: urlWithScheme(["postgres:", "postgresql:"], "postgresql://").optional(),
    REDIS_URL: urlWithScheme(["redis:", "rediss:"], "redis:// or rediss://").optional(),
    RATE_LIMIT_STORE: z
      .string()
      .transform((v) => v.toLowerCase())
      .pipe(
        z.enum(["memory", "postgres", "redis"], {
          error: (iss) => `must be memory, postgres or redis${shown(iss.input)}`,
        }),
      )
      .optional(),
    AUTH_SECRET: z.string().optional(),
    AUTH_GITHUB_ID: z.string().optional(),
    AUTH_GITHUB_SECRET: z.string().optional(),
    AUTH_GOOGLE_ID: z.string().optional(),
    AUTH_GOOGLE_SECRET: z.string().optional(),
    PORT: z
      .string()
      .refine((v) => /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535, {
        error: (iss) => `must be a port number from 1 to 65535${shown(iss.input)}`,
      })
      .transform(Number)
      .default(3000),
    HOST: z.string().default("127.0.0.1"),
    KEYWARD_DATA_DIR: z.string().default(".data"),
    KEYWARD_TRUST_PROXY: flag(false),
    KEYWARD_LEAN_LANE: flag(true),
    KEYWARD_SEED_DEMO: flag(true),
    KEYWARD_SKIP_BUILD: flag(false),
    KEYWARD_DEMO_PASSWORD: z.string().optional(),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: (iss) =>
          `must be fatal, error, warn, info, debug, trace or silent${shown(iss.input)}`,
      })
      .default("info"),
    /** Next's telemetry: off unless set to 0 (scripts/start.ts). */
    NEXT_TELEMETRY_DISABLED: flag(true),
    /** Mail (lib/mail): smtp:// or smtps://; unset, mail goes to the data folder's outbox. */
    SMTP_URL: urlWithScheme(["smtp:", "smtps:"], "smtp:// or smtps://").optional(),
    MAIL_FROM: z.string().optional(),
    /** The origin links in mail point at; default http://HOST:PORT. */
    KEYWARD_PUBLIC_URL: urlWithScheme(["http:", "https:"], "http:// or https://").optional(),
    /** The longest one Redis command may take before the breaker counts a failure (redis-breaker.ts). */
    REDIS_COMMAND_TIMEOUT_MS: millis(1, 60_000, 100),
    /** PostgreSQL: connecting (or waiting for a pooled connection), and one query (lib/db). */
    DATABASE_CONNECT_TIMEOUT_MS: millis(1, 3_600_000, 3_000),
    DATABASE_QUERY_TIMEOUT_MS: millis(1, 3_600_000, 15_000),
    /**
     * GET /metrics: callers must send `Authorization: Bearer <this>`; unset, only loopback
     * callers may scrape (lib/metrics/endpoint.ts).
     */
    KEYWARD_METRICS_TOKEN: z
      .string()
      .min(16, { error: "must be at least 16 characters" })
      .max(512, { error: "must be at most 512 characters" })
      .optional(),
    /**
     * Credits on the embedded database: how long a spent balance may stay in this process
     * before it is written (a crash loses at most this much of spends); 0 writes every spend
     * before verify answers (lib/ratelimit/credits-write-behind.ts).
     */
    KEYWARD_CREDITS_FLUSH_MS: millis(0, 60_000, 1_000),
    /**
     * The server runs the embedded database in a thread of its own (lib/db/pglite-thread.ts):
     * "off" runs it on the thread that answers HTTP, as the CLI does.
     */
    KEYWARD_DB_THREAD: z.enum(["on", "off"]).default("on"),
    /**
     * On a PostgreSQL server the usage batches are written by a worker thread
     * (lib/services/usage-writer.ts): "off" writes them on the main thread; a path to a .mjs file
     * replaces the worker's script. Unset: lib/services/usage-writer-worker.mjs.
     */
    KEYWARD_USAGE_WORKER: z
      .string()
      .refine((v) => v === "off" || v.endsWith(".mjs"), {
        error: (iss) => `must be off or a path to a .mjs file${shown(iss.input)}`,
      })
      .optional(),
    /** How often the webhook scheduler looks for expiring keys and quota thresholds. */
    KEYWARD_WEBHOOK_SCHEDULER_INTERVAL_MS: millis(1_000, 3_600_000, 60_000),
    /**
     * Webhooks may go to loopback (http or https): for tests and local receivers only. Private,
     * link-local and metadata addresses stay refused (lib/webhooks/url-policy.ts).
     */
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: flag(false),
    /** One webhook attempt, connecting to the end of the response (lib/webhooks/send.ts). */
    KEYWARD_WEBHOOK_TIMEOUT_MS: millis(1, 60_000, 10_000),
    /** How many webhook attempts run at once in this process (delivery loop). */
    KEYWARD_WEBHOOK_CONCURRENCY: z
      .string()
      .refine((v) => /^\d{1,4}$/.test(v) && Number(v) >= 1 && Number(v) <= 1000, {
        error: (iss) => `must be a whole number from 1 to 1000${shown(iss.input)}`,
      })
      .transform(Number)
      .default(10),
    /** How often an idle delivery loop looks for due deliveries. */
    KEYWARD_WEBHOOK_POLL_MS: millis(10, 60_000, 1_000),
    /**
     * GitHub secret scanning's public keys (POST /api/v1/secret-scanning/github): the JSON of
     * https://api.github.com/meta/public_keys/secret_scanning, or the path of a file holding it.
     * Unset, that route answers 503 (docs/leaks.md).
     */
    KEYWARD_GITHUB_SECRET_SCANNING_KEYS: z
      .string()
      .max(100_000, { error: "must be at most 100000 characters" })
      .optional(),
    /** Who runs the CLI, for its audit rows. */
    USER: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.RATE_LIMIT_STORE === "redis" && !c.REDIS_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["RATE_LIMIT_STORE"],
        message: "is redis, which needs REDIS_URL",
      });
    }
  });

export type Config = z.output<typeof schema>;
export const CONFIG_VARIABLES = Object.keys(schema.shape) as (keyof Config)[];

/** Validates an environment (empty values count as unset); throws ConfigError. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const v = env[name]?.trim();
    if (v) input[name] = v;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${String(i.path[0] ?? "")} ${i.message}`);
  throw new ConfigError(`configuration: ${problems.join("; ")}`);
}

const KEY = Symbol.for("keyward.config");
type Holder = { dotenvLoaded?: boolean; snapshot?: string; value?: Config };
function holder(): Holder {
  const g = globalThis as unknown as Record<symbol, Holder>;
  g[KEY] ??= {};
  return g[KEY];
}

/** Loads `.env` from the working directory into process.env once; real variables win. */
export function loadDotEnv(dir = process.cwd()): void {
  const h = holder();
  if (h.dotenvLoaded) return;
  h.dotenvLoaded = true;
  const file = path.resolve(/*turbopackIgnore: true*/ dir, ".env");
  if (typeof process.loadEnvFile !== "function" || !existsSync(file)) return;
  try {
    process.loadEnvFile(file);
  } catch (e) {
    throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * The process's configuration. Parsed again only when one of its variables changed (start
 * writes AUTH_SECRET; tests stub variables), so every bundle of the app sees the same values.
 */
export function config(): Config {
  loadDotEnv();
  const h = holder();
  const env = process.env;
  const snapshot = CONFIG_VARIABLES.map((k) => env[k] ?? "\u0000").join("\u0000\u0001");
  if (h.value && h.snapshot === snapshot) return h.value;
  const value = parseConfig(env);
  h.snapshot = snapshot;
  h.value = value;
  return value;
}

/**
 * What `npm start` puts into the real environment before Next loads: production mode, our
 * own signal handling (Next reads it before next.config), and no telemetry unless the
 * operator set NEXT_TELEMETRY_DISABLED=0 (a self-hosted security product does not phone home;
 * Next treats any non-empty value as "disabled", so 0 removes it).
 */
export function frameworkEnv(c: Config): Record<string, string | undefined> {
  return {
    NODE_ENV: "production",
    NEXT_MANUAL_SIG_HANDLE: "true",
    NEXT_TELEMETRY_DISABLED: c.NEXT_TELEMETRY_DISABLED ? "1" : undefined,
  };
}
