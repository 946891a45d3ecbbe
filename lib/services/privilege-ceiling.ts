// "A key never grants more than it holds" (PRODUCT.md section 8), as one pure function: what a
// caller may put on a key it creates, changes or rotates. The key service builds the ceiling from
// the caller (read inside its transaction) and calls `applyCeiling` before it writes anything.
import { privilegeCeiling } from "@/lib/errors";
import { cidrWithin } from "@/lib/net/cidr";

/**
 * The most a caller may grant. A key is bounded by its own rights; a dashboard user only by the
 * plan's per-minute limit; the operator CLI has no ceiling at all (it builds none).
 */
export interface Ceiling {
  kind: "key" | "plan";
  /** The caller's scopes; undefined: any scope. */
  scopes?: readonly string[];
  /** The caller's expiry (null: never expires); undefined: any expiry. */
  expiresAt?: Date | null;
  /** A test caller makes only test keys; undefined: either environment. */
  environment?: "live" | "test";
  /** The caller's allowed networks; undefined or empty: anywhere. */
  allowedCidrs?: readonly string[];
  /** The highest effective per-key limit the caller may grant (requests per minute). */
  maxRateLimitPerMinute: number;
  /** The organization's per-minute limit: the effective limit of a key whose own limit is null. */
  planRateLimitPerMinute: number;
}

/** What a request puts on a key. undefined: not given; null expiry: never; null limit: the plan's. */
export interface Grant {
  environment?: "live" | "test";
  scopes?: readonly string[];
  expiresAt?: Date | null;
  rateLimitPerMinute?: number | null;
  /** Allowed networks (normalized); empty: anywhere. */
  allowedCidrs?: readonly string[];
}

/** A key as far as its rights go: the caller, or the key being changed. */
export interface KeyRights {
  environment: "live" | "test";
  scopes: readonly string[];
  expiresAt: Date | null;
  /** Its own per-key limit; null: the plan's. */
  rateLimitPerMinute: number | null;
  /** Its allowed networks; empty: anywhere. */
  allowedCidrs?: readonly string[];
}

/** A key's ceiling: its own scopes, expiry, environment and effective limit. */
export function keyCeiling(caller: KeyRights, planRateLimitPerMinute: number): Ceiling {
  return {
    kind: "key",
    scopes: [...caller.scopes],
    expiresAt: caller.expiresAt,
    environment: caller.environment === "test" ? "test" : undefined,
    allowedCidrs: caller.allowedCidrs?.length ? [...caller.allowedCidrs] : undefined,
    maxRateLimitPerMinute: caller.rateLimitPerMinute ?? planRateLimitPerMinute,
    planRateLimitPerMinute,
  };
}

/** A dashboard admin's ceiling: any scope and expiry, a per-key limit up to the plan's. */
export function planCeiling(planRateLimitPerMinute: number): Ceiling {
  return {
    kind: "plan",
    maxRateLimitPerMinute: planRateLimitPerMinute,
    planRateLimitPerMinute,
  };
}

const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * Checks a grant against the ceiling and returns it with the defaults the ceiling implies, or
 * throws 403 PRIVILEGE_CEILING naming the first field over it.
 *
 * `create` (and rotate, which gives every field): an omitted expiry from a caller that expires
 * becomes the caller's own expiry, and an omitted limit becomes the caller's effective limit
 * when the plan's would be higher; an explicit `null` (never / the plan's) past the ceiling is
 * refused. `update`: an omitted field is left as it is, so only the given fields are checked.
 */
export function applyCeiling(ceiling: Ceiling, grant: Grant, mode: "create" | "update"): Grant {
  const out: Grant = { ...grant };
  const who = ceiling.kind === "key" ? "the calling key" : "the plan";

  if (ceiling.environment === "test" && grant.environment !== undefined) {
    if (grant.environment !== "test") {
      throw privilegeCeiling("environment", "A test key can create and change test keys only.");
    }
  }

  if (ceiling.scopes && grant.scopes) {
    const held = new Set(ceiling.scopes);
    const extra = grant.scopes.filter((s) => !held.has(s));
    if (extra.length) {
      throw privilegeCeiling(
        "scopes",
        `The calling key does not hold ${extra.join(", ")}; a key can grant only scopes it holds.`,
      );
    }
  }

  if (ceiling.expiresAt !== undefined && ceiling.expiresAt !== null) {
    const limit = ceiling.expiresAt;
    if (grant.expiresAt === undefined && mode === "create") {
      out.expiresAt = limit;
    } else if (grant.expiresAt === null) {
      throw privilegeCeiling(
        "expiresAt",
        `The calling key expires (${limit.toISOString()}); it can grant only an expiry at or before that, never "no expiry".`,
      );
    } else if (grant.expiresAt && grant.expiresAt.getTime() > limit.getTime()) {
      throw privilegeCeiling(
        "expiresAt",
        `The expiry must be at or before the calling key's own (${limit.toISOString()}).`,
      );
    }
  }

  // A key fenced to some networks grants only keys fenced within them: an omitted list on create
  // becomes the caller's own; "anywhere" (empty) or a wider network is refused.
  if (ceiling.allowedCidrs?.length) {
    const fence = ceiling.allowedCidrs;
    if (grant.allowedCidrs === undefined) {
      if (mode === "create") out.allowedCidrs = [...fence];
    } else if (grant.allowedCidrs.length === 0) {
      throw privilegeCeiling(
        "allowedCidrs",
        `The calling key may be used only from ${fence.join(", ")}; it can grant only networks inside those, never "anywhere".`,
      );
    } else {
      const outside = grant.allowedCidrs.filter((c) => !cidrWithin(c, fence));
      if (outside.length) {
        throw privilegeCeiling(
          "allowedCidrs",
          `${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} not inside the calling key's networks (${fence.join(", ")}).`,
        );
      }
    }
  }

  const max = ceiling.maxRateLimitPerMinute;
  if (grant.rateLimitPerMinute === undefined) {
    if (mode === "create" && ceiling.planRateLimitPerMinute > max) out.rateLimitPerMinute = max;
  } else {
    const effective = grant.rateLimitPerMinute ?? ceiling.planRateLimitPerMinute;
    if (effective > max) {
      throw privilegeCeiling(
        "rateLimitPerMinute",
        grant.rateLimitPerMinute === null
          ? `The plan's limit (${fmt(effective)} per minute) is above ${who}'s ${fmt(max)}; give a limit of at most ${fmt(max)}.`
          : ceiling.kind === "key"
            ? `At most ${fmt(max)} requests per minute: the calling key's own limit.`
            : `At most ${fmt(max)} requests per minute: the organization's plan limit.`,
      );
    }
  }
  return out;
}

/** The fields a key may not change on itself (its name it may). */
export const SELF_LOCKED_FIELDS = ["scopes", "expiresAt", "rateLimitPerMinute"] as const;

/**
 * The patch without the scopes, expiry and limit it sends unchanged (the same set of scopes, the
 * same instant, the same limit): a value a key already has is no grant, so the ceiling checks
 * only what changes. A form that sends every field back then never trips on one it left alone.
 */
export function changedOnly<P extends Grant>(current: KeyRights, patch: P): P {
  const out: P = { ...patch };
  if (
    patch.scopes !== undefined &&
    patch.scopes.length === current.scopes.length &&
    patch.scopes.every((s) => current.scopes.includes(s))
  ) {
    delete out.scopes;
  }
  if (
    patch.expiresAt !== undefined &&
    (patch.expiresAt?.getTime() ?? null) === (current.expiresAt?.getTime() ?? null)
  ) {
    delete out.expiresAt;
  }
  if (patch.rateLimitPerMinute === current.rateLimitPerMinute) delete out.rateLimitPerMinute;
  if (
    patch.allowedCidrs !== undefined &&
    current.allowedCidrs !== undefined &&
    patch.allowedCidrs.length === current.allowedCidrs.length &&
    patch.allowedCidrs.every((c) => current.allowedCidrs?.includes(c))
  ) {
    delete out.allowedCidrs;
  }
  return out;
}

/**
 * A key changing itself: any change to its scopes, expiry or limit is refused (sending the value
 * it already has is no change). Returns the patch without those unchanged fields.
 */
export function checkSelfUpdate<P extends Grant>(current: KeyRights, patch: P): P {
  const out = changedOnly(current, patch);
  for (const field of SELF_LOCKED_FIELDS) {
    if (out[field] !== undefined) throw selfRefusal(field);
  }
  return out;
}

function selfRefusal(field: (typeof SELF_LOCKED_FIELDS)[number]) {
  const what = { scopes: "scopes", expiresAt: "expiry", rateLimitPerMinute: "rate limit" }[field];
  return privilegeCeiling(
    field,
    `A key cannot change its own ${what}; use another key with keys:write, or the dashboard.`,
  );
}
