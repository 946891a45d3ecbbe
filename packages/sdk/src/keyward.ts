// The middleware's engine: read the key from the request, verify it with Keyward (optionally
// cached for a few seconds), turn refusals into problem+json, and meter each request in batches
// with a service credential. The framework adapters (fetch.ts, express.ts) only translate.
import { createKeywardClient, type KeywardClient } from "./client";
import type { components } from "./generated/api";
import { type Problem, type ProblemCode, problemOf, VERIFY_TO_PROBLEM } from "./problem";

type VerifyResult = components["schemas"]["VerifyResult"];
type VerifyRequest = components["schemas"]["VerifyRequest"];
/** A usage event as the service reports it: the documented event plus the key it is metered to. */
export type ReportedUsageEvent = components["schemas"]["UsageEvent"] & { keyId: string };

/** The verified key handed to the handler: verify's answer without its envelope. */
export type VerifiedKey = Omit<
  VerifyResult,
  "valid" | "code" | "keyId" | "ratelimit" | "organizationId"
> & {
  id: string;
  organizationId: string;
};

/** Cost per request when Keyward's verify accepts one (typed from the document; else never). */
type VerifyCost = VerifyRequest extends { cost?: infer C } ? C : never;

/** The longest the in-process cache may keep a verify answer. */
export const MAX_CACHE_TTL_MS = 5_000;
const MAX_KEY_LENGTH = 512;
const MAX_BATCH = 1000;
const MAX_EVENT_RESPONSE_TIME_MS = 600_000;

export interface KeywardOptions {
  /** Keyward's origin, e.g. `https://keys.example.com`. */
  baseUrl: string;
  /**
   * The service credential (`ksvc_…`, `npm run keyward -- service:create`) usage is reported
   * with. Without it nothing is metered (verification still works).
   */
  serviceCredential?: string;
  /** Scopes every protected route needs (a route may ask for more). */
  scopes?: string[];
  /**
   * "open" (default): when Keyward cannot be reached or answers 5xx, the request goes on with
   * `key: null` (and is not metered). "closed": it is answered 503 `UNAVAILABLE`.
   */
  onError?: "open" | "closed";
  /** Verify's timeout (default 2,000 ms); past it Keyward counts as down. */
  timeoutMs?: number;
  /**
   * Keep a valid answer in this process for up to this long (0 = off, the default; at most
   * 5,000 ms). Trade-off: within that time a revoked key still passes, and its requests are
   * not counted against its rate limit by Keyward (RateLimit-Remaining counts down locally).
   */
  cacheTtlMs?: number;
  /** How often queued usage is sent (default 1,000 ms). */
  flushIntervalMs?: number;
  /** Most events kept while Keyward is unreachable; the oldest are dropped past it (10,000). */
  maxQueue?: number;
  /** The `endpoint` recorded for a request (default: its URL path). */
  endpoint?: (req: { method: string; url: string }) => string;
  /** Told when usage could not be reported (never with a key's plaintext). */
  onReportError?: (error: KeywardReportError) => void;
  /** A fetch of your own; default: the global fetch. */
  fetch?: typeof globalThis.fetch;
  /**
   * Fetch-style handlers (`protect`): the end client's address, sent with every verify so keys
   * with an IP allowlist (`allowedCidrs`) can be checked; without it such keys are refused
   * `IP_NOT_ALLOWED`. A `Request` carries no peer address, so say where yours is, e.g. behind
   * your own proxy `(req) => req.headers.get("x-real-ip")`. Never read a header a client can set
   * directly. Express needs nothing: the middleware sends `req.ip` (Express's `trust proxy`).
   */
  clientIp?: (req: Request) => string | null | undefined;
}

export interface ProtectOptions {
  /** Scopes this route needs, besides the ones in KeywardOptions. */
  scopes?: string[];
  /** The request's cost, when Keyward's verify takes one. */
  cost?: VerifyCost;
  /** The `endpoint` recorded for this route (default: KeywardOptions.endpoint, else the path). */
  endpoint?: string;
}

export interface KeywardReportError {
  reason: "unreachable" | "refused" | "dropped";
  message: string;
  /** Events that were refused or dropped. */
  count: number;
  refused?: unknown[];
}

/** What the handler gets: the key (null only when Keyward was down and onError is "open"). */
export interface KeywardContext {
  key: VerifiedKey | null;
  /** Add tokens to this request's usage event. */
  addTokens(tokens: number): void;
  /** Add a cost in USD (a number or a decimal string such as "0.0025"). */
  addCost(usd: number | string): void;
}

/** One request's outcome of verification. */
export type Admission =
  | { ok: true; ctx: RequestMeter; headers: Record<string, string> }
  | { ok: false; status: number; problem: Problem; headers: Record<string, string> };

interface CacheEntry {
  key: VerifiedKey;
  ratelimit: VerifyResult["ratelimit"];
  expires: number;
}

const MICRO = 1_000_000;

/** Parses a USD amount into whole micro-dollars (6 places) without float drift. */
export function toMicroUsd(usd: number | string): number {
  const s = typeof usd === "number" ? usd.toFixed(6) : usd.trim();
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) throw new TypeError(`Not a non-negative USD amount with up to 6 decimals: ${s}`);
  return Number(m[1]) * MICRO + Number((m[2] ?? "").padEnd(6, "0"));
}

function formatMicroUsd(micro: number): string {
  const whole = Math.floor(micro / MICRO);
  const frac = String(micro % MICRO)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : String(whole);
}

/** The request's meter: what the handler adds, and the event recorded when it is answered. */
export class RequestMeter implements KeywardContext {
  readonly started = performance.now();
  tokens = 0;
  costMicro = 0;
  constructor(
    readonly key: VerifiedKey | null,
    readonly endpoint: string,
    readonly method: string,
  ) {}
  // Arrow fields, so `({ key, addTokens }) => …` may destructure them.
  readonly addTokens = (tokens: number): void => {
    if (!Number.isInteger(tokens) || tokens < 0) {
      throw new TypeError("tokens must be a non-negative integer");
    }
    this.tokens += tokens;
  };
  readonly addCost = (usd: number | string): void => {
    this.costMicro += toMicroUsd(usd);
  };
}

function headerValue(v: string | string[] | null | undefined): string | string[] | undefined {
  return v === null ? undefined : v;
}

/** The key from `Authorization: Bearer` or `X-API-Key` (one of them), or the refusal. */
export function readKey(
  authorization: string | string[] | null | undefined,
  xApiKey: string | string[] | null | undefined,
): { key: string } | { code: ProblemCode } {
  const auth = headerValue(authorization);
  const xkey = headerValue(xApiKey);
  if (Array.isArray(auth) || Array.isArray(xkey)) return { code: "BAD_REQUEST" };
  if (auth !== undefined && xkey !== undefined) return { code: "BAD_REQUEST" };
  if (auth !== undefined) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? { key: m[1]! } : { code: "UNAUTHORIZED" };
  }
  if (xkey !== undefined) {
    const k = xkey.trim();
    return k ? { key: k } : { code: "UNAUTHORIZED" };
  }
  return { code: "UNAUTHORIZED" };
}

function rateLimitHeaders(rl: VerifyResult["ratelimit"], limited: boolean): Record<string, string> {
  if (!rl) return {};
  const h: Record<string, string> = {
    "ratelimit-limit": String(rl.limit),
    "ratelimit-remaining": String(Math.max(0, rl.remaining)),
    "ratelimit-reset": String(rl.reset),
  };
  if (limited) h["retry-after"] = String(Math.max(1, rl.reset));
  return h;
}

async function sha256(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Buffer.from(digest).toString("base64url");
}

export class Keyward {
  readonly client: KeywardClient;
  private readonly opts: KeywardOptions;
  private readonly typeBase: string;
  private readonly cacheTtlMs: number;
  private readonly cache = new Map<string, CacheEntry>();
  private queue: ReportedUsageEvent[] = [];
  private flushing: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(opts: KeywardOptions) {
    if (!opts.baseUrl) throw new TypeError("Keyward: baseUrl is required");
    this.opts = opts;
    this.typeBase = opts.baseUrl.replace(/\/+$/, "");
    this.cacheTtlMs = Math.min(Math.max(0, opts.cacheTtlMs ?? 0), MAX_CACHE_TTL_MS);
    this.client = createKeywardClient({ baseUrl: opts.baseUrl, fetch: opts.fetch });
    if (opts.serviceCredential) {
      this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 1000);
      this.timer.unref?.();
    }
  }

  /** The end client's address of a fetch-style request (KeywardOptions.clientIp), if known. */
  clientIpOf(req: Request): string | undefined {
    return this.opts.clientIp?.(req) ?? undefined;
  }

  /** Events waiting to be reported. */
  get pending(): number {
    return this.queue.length;
  }

  private problem(code: ProblemCode, headers: Record<string, string> = {}): Admission {
    const problem = problemOf(code, this.typeBase);
    const h: Record<string, string> = { ...headers, "content-type": "application/problem+json" };
    if (problem.status === 401) h["www-authenticate"] = 'Bearer realm="keyward"';
    return { ok: false, status: problem.status, problem, headers: h };
  }

  /** Verifies the request's key; on success returns the meter the handler adds usage to. */
  async admit(
    req: {
      method: string;
      url: string;
      authorization: string | string[] | null | undefined;
      xApiKey: string | string[] | null | undefined;
      /** The end client's address, for keys with an IP allowlist. */
      ip?: string | null;
    },
    route: ProtectOptions = {},
  ): Promise<Admission> {
    const endpoint = route.endpoint ?? this.opts.endpoint?.(req) ?? pathOf(req.url);
    const method = req.method.toUpperCase();
    const read = readKey(req.authorization, req.xApiKey);
    if ("code" in read) return this.problem(read.code);
    if (read.key.length > MAX_KEY_LENGTH) return this.problem("INVALID_FORMAT");
    const scopes = [...new Set([...(this.opts.scopes ?? []), ...(route.scopes ?? [])])];

    // Only an address's characters, at most IPv6's longest form: anything else (a header list,
    // control characters, a huge value) would be refused by verify as bad input, so it is not
    // sent, and a key with an allowlist is then refused IP_NOT_ALLOWED rather than the request
    // failing as a malformed key.
    const rawIp = req.ip?.trim();
    const ip = rawIp && /^[0-9A-Fa-f:.]{2,45}$/.test(rawIp) ? rawIp : undefined;
    // The address is part of the answer (an allowlisted key is valid from some addresses only):
    // a cached answer is reused for the same key, scopes and address.
    const cacheId =
      this.cacheTtlMs > 0 ? await sha256(`${read.key}\n${scopes.join(" ")}\n${ip ?? ""}`) : "";
    if (cacheId) {
      const hit = this.cache.get(cacheId);
      if (hit && hit.expires > Date.now()) {
        if (hit.ratelimit) hit.ratelimit.remaining = Math.max(0, hit.ratelimit.remaining - 1);
        return {
          ok: true,
          ctx: new RequestMeter(hit.key, endpoint, method),
          headers: rateLimitHeaders(hit.ratelimit, false),
        };
      }
      if (hit) this.cache.delete(cacheId);
    }

    let result: VerifyResult;
    try {
      const body: VerifyRequest = {
        key: read.key,
        ...(scopes.length ? { scopes } : {}),
        ...(ip ? { ip } : {}),
      };
      if (route.cost !== undefined) Object.assign(body, { cost: route.cost });
      const { data, response } = await this.client.POST("/api/v1/keys/verify", {
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 2000),
      });
      if (response.status === 429) {
        // Keyward limits failed verifications per client address: refuse like a rate limit.
        const retry = response.headers.get("retry-after");
        return this.problem("RATE_LIMITED", retry ? { "retry-after": retry } : {});
      }
      if (response.status >= 400 && response.status < 500) return this.problem("INVALID_FORMAT");
      if (!data) throw new Error(`verify answered ${response.status}`);
      result = data;
    } catch {
      if ((this.opts.onError ?? "open") === "closed") {
        return this.problem("UNAVAILABLE", { "retry-after": "1" });
      }
      return { ok: true, ctx: new RequestMeter(null, endpoint, method), headers: {} };
    }

    if (!result.valid || result.code !== "VALID" || !result.keyId || !result.organizationId) {
      const code = result.code === "VALID" ? "KEY_NOT_FOUND" : VERIFY_TO_PROBLEM[result.code];
      const limited = code === "RATE_LIMITED" || code === "QUOTA_EXCEEDED";
      return this.problem(code, rateLimitHeaders(result.ratelimit, limited));
    }
    const { valid: _v, code: _c, keyId, ratelimit, organizationId, ...rest } = result;
    const key: VerifiedKey = { id: keyId, organizationId, ...rest };
    if (cacheId) {
      if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(cacheId, {
        key,
        ratelimit: ratelimit ? { ...ratelimit } : null,
        expires: Date.now() + this.cacheTtlMs,
      });
    }
    return {
      ok: true,
      ctx: new RequestMeter(key, endpoint, method),
      headers: rateLimitHeaders(ratelimit, false),
    };
  }

  /** Records the answered request (status and latency) for the next batch. */
  record(meter: RequestMeter, statusCode: number): void {
    if (!meter.key || !this.opts.serviceCredential || this.closed) return;
    const event: ReportedUsageEvent = {
      keyId: meter.key.id,
      endpoint: meter.endpoint.slice(0, 200) || "/",
      method: /^[A-Z]{1,10}$/.test(meter.method) ? meter.method : "OTHER",
      statusCode: Math.min(599, Math.max(100, Math.trunc(statusCode) || 500)),
      responseTimeMs: Math.min(
        MAX_EVENT_RESPONSE_TIME_MS,
        Math.max(0, Math.round(performance.now() - meter.started)),
      ),
      occurredAt: new Date().toISOString(),
    };
    if (meter.tokens > 0) event.tokens = meter.tokens;
    if (meter.costMicro > 0) event.costUsd = formatMicroUsd(meter.costMicro);
    this.queue.push(event);
    const max = this.opts.maxQueue ?? 10_000;
    if (this.queue.length > max) {
      const dropped = this.queue.splice(0, this.queue.length - max);
      this.reportError({
        reason: "dropped",
        message: `usage queue full: dropped the ${dropped.length} oldest events`,
        count: dropped.length,
      });
    }
    if (this.queue.length >= MAX_BATCH) void this.flush();
  }

  private reportError(e: KeywardReportError): void {
    if (this.opts.onReportError) this.opts.onReportError(e);
    else console.warn(`keyward: ${e.message}`);
  }

  /** Sends every queued event now (in batches of 1,000); resolves when done or failed. */
  flush(): Promise<void> {
    this.flushing ??= this.sendAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async sendAll(): Promise<void> {
    const credential = this.opts.serviceCredential;
    if (!credential) return;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      let status = 0;
      let refused: { index: number }[] = [];
      try {
        const { data, error, response } = await this.client.POST("/api/v1/usage/events", {
          body: { events: batch },
          headers: { authorization: `Bearer ${credential}` },
          signal: AbortSignal.timeout(10_000),
        });
        status = response.status;
        const body = (data ?? error) as { refused?: { index: number }[] } | undefined;
        refused = Array.isArray(body?.refused) ? body.refused : [];
      } catch (e) {
        this.queue.unshift(...batch);
        this.reportError({
          reason: "unreachable",
          message: `usage not reported (will retry): ${(e as Error).message}`,
          count: batch.length,
        });
        return;
      }
      // 503 with UNAVAILABLE refusals, or another 5xx: Keyward is busy; keep them for later.
      const retry = new Set(
        refused.filter((r) => (r as { code?: string }).code === "UNAVAILABLE").map((r) => r.index),
      );
      if (status >= 500 && retry.size === 0) {
        this.queue.unshift(...batch);
        this.reportError({
          reason: "unreachable",
          message: `usage not reported (will retry): Keyward answered ${status}`,
          count: batch.length,
        });
        return;
      }
      if (retry.size > 0) this.queue.unshift(...batch.filter((_, i) => retry.has(i)));
      const final = refused.filter((r) => !retry.has(r.index));
      if (status >= 400 && status !== 422 && status !== 503) {
        this.reportError({
          reason: "refused",
          message: `usage refused: Keyward answered ${status} (check the service credential)`,
          count: batch.length,
        });
      } else if (final.length > 0) {
        this.reportError({
          reason: "refused",
          message: `usage: ${final.length} event(s) refused`,
          count: final.length,
          refused: final,
        });
      }
      if (retry.size > 0) return;
    }
  }

  /** Stops the timer and reports what is queued (call it before the process exits). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
  }

  /**
   * Opt-in process hooks: on SIGTERM/SIGINT report queued usage, then exit as the signal
   * would; before a natural exit, report it too.
   */
  installShutdownHooks(): () => void {
    const onSignal = (signal: NodeJS.Signals) => {
      void this.close().finally(() => {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
        process.kill(process.pid, signal);
      });
    };
    const onBeforeExit = () => {
      if (this.queue.length > 0) void this.flush();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    process.on("beforeExit", onBeforeExit);
    return () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      process.off("beforeExit", onBeforeExit);
    };
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url, "http://localhost").pathname;
  } catch {
    return "/";
  }
}
