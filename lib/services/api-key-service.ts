// The key service: the one place that creates, verifies, revokes, rotates and updates API keys.
// Route handlers, server actions and the CLI call it and nothing below it. Every change runs in
// one transaction with its audit row; verify is data (a stable code), never an exception.
import type { Db, Tx } from "@/lib/db";
import type { Organization } from "@/lib/db/generated/client";
import { KeywardError, notFound, validationFailed } from "@/lib/errors";
import {
  generateKey,
  hashKey,
  isValidKeyFormat,
  verifyKey as keyMatchesHash,
  normalizeEnvironment,
  toDbEnvironment,
} from "@/lib/keys";
import { getRateLimiter } from "@/lib/ratelimit";
import { limit, limitKeyRequest, POLICIES } from "@/lib/ratelimit/policies";
import type { RateLimitResult } from "@/lib/ratelimit/types";
import {
  type ApiKeyRecord,
  type ApiKeyStatistics,
  type ApiKeyWithOrganization,
  apiKeyRepository,
} from "@/lib/repositories/api-key-repository";
import { auditRepository } from "@/lib/repositories/audit-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Page } from "@/lib/repositories/shared";
import { usageRepository } from "@/lib/repositories/usage-repository";
import { toFieldIssues } from "@/lib/validation/issues";
import {
  GRACE_PERIODS,
  type GracePeriod,
  KeyNameSchema,
  type KeyOutput,
  RateLimitPerMinuteSchema,
  ScopesSchema,
  type VerifyCode,
  type VerifyResultOutput,
} from "@/lib/validation/keys";
import type { z } from "@/lib/validation/zod";
import { type Actor, actorLabel } from "./actor";
import { type CachedKey, getKeyCache, type KeyCache } from "./key-cache";
import {
  applyCeiling,
  type Ceiling,
  changedOnly,
  checkSelfUpdate,
  type KeyRights,
  keyCeiling,
  planCeiling,
} from "./privilege-ceiling";

export type EnvironmentInput = "live" | "test" | "LIVE" | "TEST";
export type KeyView = KeyOutput;

/** Restricts what a caller sees: a test key sees only test keys. */
export interface Visibility {
  environment?: "live" | "test";
}

// ---------------------------------------------------------------------------------------------
// Views

function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}

/** The effective status: an ACTIVE key past its expiry is expired, whatever the row says. */
export function effectiveStatus(
  key: Pick<ApiKeyRecord, "status" | "expiresAt">,
  now: Date = new Date(),
): "active" | "revoked" | "expired" {
  if (key.status === "REVOKED") return "revoked";
  if (key.status === "EXPIRED") return "expired";
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return "expired";
  return "active";
}

/** A key as it may leave the service: no hash, no plaintext. */
export function toKeyView(key: ApiKeyRecord, now: Date = new Date()): KeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    hint: key.hint,
    environment: key.environment === "TEST" ? "test" : "live",
    status: effectiveStatus(key, now),
    scopes: [...key.scopes],
    expiresAt: iso(key.expiresAt),
    rateLimitPerMinute: key.rateLimitPerMinute,
    lastUsedAt: iso(key.lastUsedAt),
    requestCount: key.requestCount,
    createdAt: key.createdAt.toISOString(),
    updatedAt: key.updatedAt.toISOString(),
    revokedAt: iso(key.revokedAt),
    revokedReason: key.revokedReason,
    rotatedToId: key.rotatedToId,
  };
}

function visible(key: ApiKeyRecord | null, v: Visibility): ApiKeyRecord | null {
  if (!key) return null;
  if (v.environment && key.environment !== toDbEnvironment(v.environment)) return null;
  return key;
}

// ---------------------------------------------------------------------------------------------
// Input checks shared by every caller (API, dashboard, CLI), so each gets the same 422.

function check<S extends z.ZodType>(schema: S, value: unknown, path: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationFailed(toFieldIssues(r.error, path));
  return r.data;
}

function toDate(value: Date | string | null | undefined, path: string): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw validationFailed([{ path, message: "Not a valid date and time." }]);
  }
  return d;
}

function futureExpiry(d: Date | null | undefined, now: Date): Date | null | undefined {
  if (d && d.getTime() <= now.getTime()) {
    throw validationFailed([{ path: "expiresAt", message: "The expiry must be in the future." }]);
  }
  if (d && d.getTime() > now.getTime() + 10 * 366 * 86_400_000) {
    throw validationFailed([
      { path: "expiresAt", message: "The expiry is more than 10 years away." },
    ]);
  }
  return d;
}

function environmentOf(value: unknown): "live" | "test" {
  try {
    return normalizeEnvironment(value);
  } catch {
    throw validationFailed([{ path: "environment", message: 'Expected "live" or "test".' }]);
  }
}

// ---------------------------------------------------------------------------------------------
// Private adapters (see the report: want these as repository functions).

/**
 * Locks one row until the transaction ends (rotation and the key-limit check need it). Always the
 * organization before any of its keys, so two transactions never wait on each other in a circle.
 * NO KEY UPDATE, not UPDATE: it still serializes every create, rotation and revival of one
 * organization (two NO KEY UPDATE locks conflict), but not the foreign-key checks (KEY SHARE) of
 * the usage recorder's inserts, which would otherwise wait on, or deadlock with, a rotation.
 */
async function lockRow(tx: Tx, table: "ApiKey" | "Organization", id: string): Promise<boolean> {
  const rows =
    table === "ApiKey"
      ? await tx.$queryRaw<
          { id: string }[]
        >`SELECT id FROM "ApiKey" WHERE id = ${id}::uuid FOR NO KEY UPDATE`
      : await tx.$queryRaw<
          { id: string }[]
        >`SELECT id FROM "Organization" WHERE id = ${id}::uuid FOR NO KEY UPDATE`;
  return rows.length > 0;
}

/**
 * Refuses one more active key past the plan's maximum. Active means status ACTIVE and not past
 * its expiry, so a rotated key still inside its grace period counts. Call it only while holding
 * the organization's row lock: then the count cannot change before this transaction commits.
 */
async function assertKeySlot(tx: Tx, org: Organization, now: Date, what: string): Promise<void> {
  const active = await organizationRepository.getApiKeyCount(tx, org.id, now);
  if (active >= org.maxActiveKeys) {
    throw new KeywardError(
      "KEY_LIMIT_REACHED",
      `The organization has ${active} active keys (grace-period keys included), its plan's maximum; ${what}`,
      { extra: { limit: org.maxActiveKeys } },
    );
  }
}

const rightsOf = (k: ApiKeyRecord): KeyRights => ({
  environment: k.environment === "TEST" ? "test" : "live",
  scopes: k.scopes,
  expiresAt: k.expiresAt,
  rateLimitPerMinute: k.rateLimitPerMinute,
});

/**
 * What the actor may grant (lib/services/privilege-ceiling.ts): a key its own rights, read here
 * inside the transaction rather than from the authentication cache; a dashboard user the plan's
 * per-minute limit; the operator CLI and the system nothing (null: no ceiling).
 */
async function ceilingOf(
  tx: Tx,
  actor: Actor,
  org: Organization,
  now: Date,
): Promise<{ ceiling: Ceiling | null; caller: ApiKeyRecord | null }> {
  if (actor.type === "user") return { ceiling: planCeiling(org.rateLimitPerMinute), caller: null };
  if (actor.type !== "key") return { ceiling: null, caller: null };
  const caller = isUuid(actor.id) ? await apiKeyRepository.getById(tx, org.id, actor.id) : null;
  if (!caller) throw new KeywardError("KEY_NOT_FOUND", "No such API key.");
  const status = effectiveStatus(caller, now);
  if (status === "revoked") throw new KeywardError("KEY_REVOKED", "The calling key was revoked.");
  if (status === "expired") throw new KeywardError("KEY_EXPIRED", "The calling key has expired.");
  return { ceiling: keyCeiling(rightsOf(caller), org.rateLimitPerMinute), caller };
}

interface AuditEntry {
  organizationId: string;
  action: string;
  targetId: string;
  metadata?: Record<string, unknown>;
}

function writeAudit(tx: Tx, actor: Actor, entry: AuditEntry) {
  return auditRepository.create(tx, {
    organizationId: entry.organizationId,
    actorType: actor.type,
    actorId: actor.id ?? null,
    action: entry.action,
    targetType: "api_key",
    targetId: entry.targetId,
    metadata: entry.metadata ?? {},
    ipAddress: actor.ip ?? null,
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (s: unknown): s is string => typeof s === "string" && UUID.test(s);

// ---------------------------------------------------------------------------------------------
// Create

export interface CreateKeyInput {
  organizationId: string;
  name: string;
  environment: EnvironmentInput;
  scopes?: string[];
  expiresAt?: Date | string | null;
  rateLimitPerMinute?: number | null;
  metadata?: Record<string, unknown> | null;
}

export interface CreatedKey {
  /** The plaintext key: returned this once, stored nowhere. */
  key: string;
  apiKey: KeyView;
}

export async function createKey(db: Db, input: CreateKeyInput, actor: Actor): Promise<CreatedKey> {
  const now = new Date();
  const name = check(KeyNameSchema, input.name, "name");
  const environment = environmentOf(input.environment);
  const scopes = check(ScopesSchema, input.scopes ?? [], "scopes");
  // undefined (not given) stays apart from null (never / the plan's) until the ceiling has seen it.
  const givenExpiry = futureExpiry(toDate(input.expiresAt, "expiresAt"), now);
  const givenLimit = check(
    RateLimitPerMinuteSchema.optional(),
    input.rateLimitPerMinute,
    "rateLimitPerMinute",
  );
  if (!isUuid(input.organizationId)) throw notFound("organization");

  const generated = generateKey(environment);
  const record = await db.$transaction(async (tx) => {
    // The organization row is the lock that keeps two creates from both passing the limit.
    if (!(await lockRow(tx, "Organization", input.organizationId))) throw notFound("organization");
    const org = await organizationRepository.getById(tx, input.organizationId);
    if (!org) throw notFound("organization");
    if (!org.isActive) {
      throw new KeywardError(
        "ORG_INACTIVE",
        "The organization is inactive; it cannot get new keys.",
      );
    }
    const { ceiling } = await ceilingOf(tx, actor, org, now);
    const grant = ceiling
      ? applyCeiling(
          ceiling,
          { environment, scopes, expiresAt: givenExpiry, rateLimitPerMinute: givenLimit },
          "create",
        )
      : { expiresAt: givenExpiry, rateLimitPerMinute: givenLimit };
    const expiresAt = grant.expiresAt ?? null;
    const rateLimitPerMinute = grant.rateLimitPerMinute ?? null;
    await assertKeySlot(tx, org, now, "revoke one first.");
    const created = await apiKeyRepository.create(tx, {
      organizationId: org.id,
      name,
      keyHash: generated.hash,
      prefix: generated.prefix,
      hint: generated.hint,
      environment: toDbEnvironment(environment),
      scopes,
      expiresAt,
      rateLimitPerMinute,
      createdBy: actorLabel(actor),
      metadata: input.metadata ?? null,
    });
    await writeAudit(tx, actor, {
      organizationId: org.id,
      action: "key.created",
      targetId: created.id,
      metadata: {
        name,
        environment,
        scopes,
        expiresAt: iso(expiresAt),
        rateLimitPerMinute,
        prefix: generated.prefix,
        hint: generated.hint,
      },
    });
    return created;
  });
  getKeyCache().invalidate(generated.hash);
  return { key: generated.key, apiKey: toKeyView(record, now) };
}

// ---------------------------------------------------------------------------------------------
// Read

export interface ListKeysOptions {
  environment?: EnvironmentInput;
  status?: "active" | "revoked" | "expired" | "ACTIVE" | "REVOKED" | "EXPIRED";
  search?: string;
  limit?: number;
  cursor?: string | null;
}

export async function listKeys(
  db: Db,
  organizationId: string,
  options: ListKeysOptions = {},
  visibility: Visibility = {},
): Promise<Page<KeyView>> {
  if (!isUuid(organizationId)) return { items: [], nextCursor: null };
  let environment = options.environment ? environmentOf(options.environment) : undefined;
  if (visibility.environment) {
    if (environment && environment !== visibility.environment)
      return { items: [], nextCursor: null };
    environment = visibility.environment;
  }
  // The status column is filtered in SQL, so keys past their expiry are marked first.
  if (options.status) await apiKeyRepository.markExpired(db, { organizationId });
  const now = new Date();
  const page = await apiKeyRepository.listByOrganization(db, organizationId, {
    environment: environment ? toDbEnvironment(environment) : undefined,
    status: options.status
      ? (options.status.toUpperCase() as "ACTIVE" | "REVOKED" | "EXPIRED")
      : undefined,
    search: options.search,
    limit: options.limit,
    cursor: options.cursor,
  });
  return { items: page.items.map((k) => toKeyView(k, now)), nextCursor: page.nextCursor };
}

/** The organization's key; another organization's (or a hidden) key is NOT_FOUND, exactly. */
export async function getKey(
  db: Db,
  organizationId: string,
  keyId: string,
  visibility: Visibility = {},
): Promise<KeyView> {
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const key = visible(await apiKeyRepository.getById(db, organizationId, keyId), visibility);
  if (!key) throw notFound("key");
  return toKeyView(key);
}

export async function getKeyStatistics(db: Db, organizationId: string): Promise<ApiKeyStatistics> {
  return apiKeyRepository.getStatistics(db, organizationId);
}

// ---------------------------------------------------------------------------------------------
// Revoke

export async function revokeKey(
  db: Db,
  organizationId: string,
  keyId: string,
  input: { reason?: string | null },
  actor: Actor,
  visibility: Visibility = {},
): Promise<KeyView> {
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const reason = input.reason?.trim().slice(0, 500) || null;
  const { record, hash } = await db.$transaction(async (tx) => {
    await lockRow(tx, "ApiKey", keyId);
    const key = visible(await apiKeyRepository.getById(tx, organizationId, keyId), visibility);
    if (!key) throw notFound("key");
    if (key.status === "REVOKED") return { record: key, hash: key.keyHash };
    const revoked = await apiKeyRepository.revoke(tx, organizationId, keyId, {
      reason,
      revokedBy: actorLabel(actor),
    });
    if (!revoked) throw notFound("key");
    await writeAudit(tx, actor, {
      organizationId,
      action: "key.revoked",
      targetId: keyId,
      metadata: { reason, prefix: key.prefix, hint: key.hint },
    });
    return { record: revoked, hash: key.keyHash };
  });
  getKeyCache().invalidate(hash);
  return toKeyView(record);
}

/** For operators (CLI): revoke by id alone, optionally checking the organization's slug. */
export async function revokeKeyById(
  db: Db,
  input: { keyId: string; orgSlug?: string; reason?: string | null },
  actor: Actor,
): Promise<KeyView> {
  if (!isUuid(input.keyId)) throw notFound("key");
  const key = await apiKeyRepository.findById(db, input.keyId);
  if (!key) throw notFound("key");
  if (input.orgSlug !== undefined) {
    const org = await organizationRepository.getBySlug(db, input.orgSlug);
    if (!org || org.id !== key.organizationId) throw notFound("key");
  }
  return revokeKey(db, key.organizationId, key.id, { reason: input.reason }, actor);
}

// ---------------------------------------------------------------------------------------------
// Rotate

/**
 * When the old key stops working after a rotation: the end of the grace period, but never later
 * than the old key's own expiry (rotation must not extend a key's life).
 */
export function capGracePeriodAtSourceExpiry(
  now: Date,
  gracePeriodSeconds: number,
  sourceExpiresAt: Date | null,
): Date {
  if (!Number.isFinite(gracePeriodSeconds) || gracePeriodSeconds < 0) {
    throw new RangeError("gracePeriodSeconds must be a finite number >= 0");
  }
  const end = new Date(now.getTime() + gracePeriodSeconds * 1000);
  if (sourceExpiresAt && sourceExpiresAt.getTime() < end.getTime()) {
    return new Date(Math.max(sourceExpiresAt.getTime(), now.getTime()));
  }
  return end;
}

export interface RotatedKey extends CreatedKey {
  previousKey: KeyView;
}

export async function rotateKey(
  db: Db,
  organizationId: string,
  keyId: string,
  input: { gracePeriod?: GracePeriod },
  actor: Actor,
  visibility: Visibility = {},
): Promise<RotatedKey> {
  const gracePeriod = input.gracePeriod ?? "24h";
  if (!(gracePeriod in GRACE_PERIODS)) {
    throw validationFailed([
      { path: "gracePeriod", message: `One of ${Object.keys(GRACE_PERIODS).join(", ")}.` },
    ]);
  }
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const now = new Date();
  const result = await db.$transaction(async (tx) => {
    // The organization first (the key limit), then the source: two rotations of one key must not
    // both mint a successor.
    await lockRow(tx, "Organization", organizationId);
    await lockRow(tx, "ApiKey", keyId);
    const old = visible(await apiKeyRepository.getById(tx, organizationId, keyId), visibility);
    if (!old) throw notFound("key");
    const status = effectiveStatus(old, now);
    if (status !== "active") {
      throw new KeywardError(
        "CONFLICT",
        `Only an active key can be rotated; this one is ${status}.`,
      );
    }
    if (old.rotatedToId) {
      throw new KeywardError(
        "CONFLICT",
        "This key was rotated already; rotate its successor instead.",
        { extra: { rotatedToId: old.rotatedToId } },
      );
    }
    const org = await organizationRepository.getById(tx, organizationId);
    if (!org) throw notFound("key");
    if (!org.isActive) {
      throw new KeywardError(
        "ORG_INACTIVE",
        "The organization is inactive; its keys cannot rotate.",
      );
    }
    // The successor is the source's policy, expiry included: it never outlives its source. A
    // key may rotate only a key it could have made itself.
    const { ceiling } = await ceilingOf(tx, actor, org, now);
    if (ceiling) {
      applyCeiling(
        ceiling,
        {
          environment: old.environment === "TEST" ? "test" : "live",
          scopes: old.scopes,
          expiresAt: old.expiresAt,
          rateLimitPerMinute: old.rateLimitPerMinute,
        },
        "create",
      );
    }
    const seconds = GRACE_PERIODS[gracePeriod];
    // With a grace period both keys are active for a while: the successor needs a free slot, or
    // chained rotations would mint unbounded valid keys. Without one, the source is revoked in
    // this same transaction, so the count does not grow and no slot is needed.
    if (seconds > 0) {
      await assertKeySlot(tx, org, now, 'rotate with gracePeriod "none", or revoke a key first.');
    }
    const generated = generateKey(old.environment);
    const created = await apiKeyRepository.create(tx, {
      organizationId,
      name: old.name,
      keyHash: generated.hash,
      prefix: generated.prefix,
      hint: generated.hint,
      environment: old.environment,
      scopes: old.scopes,
      expiresAt: old.expiresAt,
      rateLimitPerMinute: old.rateLimitPerMinute,
      createdBy: actorLabel(actor),
      metadata: { ...(old.metadata ?? {}), rotatedFromId: old.id },
    });
    let previous: ApiKeyRecord | null;
    if (seconds === 0) {
      await apiKeyRepository.update(tx, organizationId, old.id, { rotatedToId: created.id });
      previous = await apiKeyRepository.revoke(tx, organizationId, old.id, {
        reason: "Rotated without a grace period",
        revokedBy: actorLabel(actor),
        revokedAt: now,
      });
    } else {
      previous = await apiKeyRepository.update(tx, organizationId, old.id, {
        expiresAt: capGracePeriodAtSourceExpiry(now, seconds, old.expiresAt),
        rotatedToId: created.id,
      });
    }
    if (!previous) throw notFound("key");
    await writeAudit(tx, actor, {
      organizationId,
      action: "key.rotated",
      targetId: old.id,
      metadata: {
        newKeyId: created.id,
        newKeyExpiresAt: iso(created.expiresAt),
        gracePeriod,
        previousKeyExpiresAt: iso(previous.expiresAt),
        prefix: generated.prefix,
        hint: generated.hint,
      },
    });
    return { created, previous, plaintext: generated.key, oldHash: old.keyHash };
  });
  getKeyCache().invalidate(result.oldHash);
  return {
    key: result.plaintext,
    apiKey: toKeyView(result.created, now),
    previousKey: toKeyView(result.previous, now),
  };
}

// ---------------------------------------------------------------------------------------------
// Update

export interface UpdateKeyInput {
  name?: string;
  scopes?: string[];
  expiresAt?: Date | string | null;
  /** null: the plan's limit. */
  rateLimitPerMinute?: number | null;
}

export async function updateKey(
  db: Db,
  organizationId: string,
  keyId: string,
  input: UpdateKeyInput,
  actor: Actor,
  visibility: Visibility = {},
): Promise<KeyView> {
  const now = new Date();
  let patch: UpdateKeyInput & { expiresAt?: Date | null } = {};
  if (input.name !== undefined) patch.name = check(KeyNameSchema, input.name, "name");
  if (input.scopes !== undefined) patch.scopes = check(ScopesSchema, input.scopes, "scopes");
  if (input.expiresAt !== undefined) {
    patch.expiresAt = futureExpiry(toDate(input.expiresAt, "expiresAt"), now) ?? null;
  }
  if (input.rateLimitPerMinute !== undefined) {
    patch.rateLimitPerMinute = check(
      RateLimitPerMinuteSchema,
      input.rateLimitPerMinute,
      "rateLimitPerMinute",
    );
  }
  if (!isUuid(organizationId) || !isUuid(keyId)) throw notFound("key");
  const { record, hash } = await db.$transaction(async (tx) => {
    // A new expiry can make an expired key active again, which takes a slot under the plan's
    // maximum: then the organization is locked first, as for a create.
    if (patch.expiresAt !== undefined) await lockRow(tx, "Organization", organizationId);
    await lockRow(tx, "ApiKey", keyId);
    const key = visible(await apiKeyRepository.getById(tx, organizationId, keyId), visibility);
    if (!key) throw notFound("key");
    if (key.status === "REVOKED") {
      throw new KeywardError("CONFLICT", "A revoked key cannot be changed.");
    }
    if (key.rotatedToId && patch.expiresAt !== undefined) {
      throw new KeywardError(
        "CONFLICT",
        "This key was rotated; its expiry is the end of its grace period and cannot change.",
      );
    }
    const org = await organizationRepository.getById(tx, organizationId);
    if (!org) throw notFound("key");
    const { ceiling, caller } = await ceilingOf(tx, actor, org, now);
    // A key never changes its own scopes, expiry or limit (its name it may).
    if (caller?.id === key.id) patch = checkSelfUpdate(rightsOf(caller), patch);
    if (ceiling) {
      const { scopes, expiresAt, rateLimitPerMinute } = changedOnly(rightsOf(key), patch);
      applyCeiling(ceiling, { scopes, expiresAt, rateLimitPerMinute }, "update");
    }
    if (patch.expiresAt !== undefined && effectiveStatus(key, now) === "expired") {
      await assertKeySlot(tx, org, now, "revoke a key before giving this one a new expiry.");
    }
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const before: Record<string, unknown> = {
      name: key.name,
      scopes: key.scopes,
      expiresAt: iso(key.expiresAt),
      rateLimitPerMinute: key.rateLimitPerMinute,
    };
    for (const [field, value] of Object.entries(patch)) {
      const to = value instanceof Date ? value.toISOString() : value;
      if (JSON.stringify(before[field]) !== JSON.stringify(to)) {
        changes[field] = { from: before[field], to };
      }
    }
    if (Object.keys(changes).length === 0) return { record: key, hash: key.keyHash };
    const updated = await apiKeyRepository.update(tx, organizationId, keyId, {
      name: patch.name,
      scopes: patch.scopes,
      expiresAt: patch.expiresAt,
      rateLimitPerMinute: patch.rateLimitPerMinute,
      // An expired row whose expiry moved to the future is active again.
      ...(key.status === "EXPIRED" && patch.expiresAt !== undefined ? { status: "ACTIVE" } : {}),
    });
    if (!updated) throw notFound("key");
    await writeAudit(tx, actor, {
      organizationId,
      action: "key.updated",
      targetId: keyId,
      metadata: { changes },
    });
    return { record: updated, hash: key.keyHash };
  });
  getKeyCache().invalidate(hash);
  return toKeyView(record, now);
}

// ---------------------------------------------------------------------------------------------
// Verify

export interface VerifyInput {
  key: string;
  /** Scopes the key must all hold. */
  scopes?: string[];
  /** What is being accessed, for metering by the caller. */
  endpoint?: string;
  /** The client's address: failed attempts are rate limited per address. */
  ip?: string;
}

export interface VerifyOutcome {
  valid: boolean;
  code: VerifyCode;
  /** The key, when one was found (also for REVOKED/EXPIRED/...). */
  key: CachedKey | null;
  /** The key's own rate limit state, when it was counted. */
  ratelimit: RateLimitResult | null;
  /** Set when failed attempts from this address were counted; not allowed = throttled. */
  addressLimit?: RateLimitResult;
  /** Unix ms when the monthly quota resets (QUOTA_EXCEEDED). */
  quotaResetAt?: number;
}

export interface QuotaCheck {
  allowed: boolean;
  used: number;
  limit: number;
  /** Unix ms of the next month's start (UTC). */
  resetAt: number;
}

export interface VerifyDeps {
  now: () => number;
  cache: KeyCache;
  /** Counts one request against the key's per-minute limit. */
  limitKey(keyId: string, limit: number): Promise<RateLimitResult>;
  /** Counts one request against the organization's monthly quota. */
  spendQuota(org: CachedKey["organization"], db: Db): Promise<QuotaCheck>;
  /** Spends one failed attempt from the address's budget. */
  failAddress(ip: string): Promise<RateLimitResult | null>;
  /**
   * limitKey, then spendQuota only when admitted, in one call (on Redis one round trip). The
   * default deps use it; a test that replaces limitKey or spendQuota gets those two called.
   */
  limitRequest?(key: CachedKey, db: Db): Promise<RequestLimits>;
}

/** What the last two steps of verify found; null where a check failed open. */
export interface RequestLimits {
  ratelimit: RateLimitResult | null;
  /** null also when the rate limit refused (the quota was not spent). */
  quota: QuotaCheck | null;
}

export function startOfNextMonthUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function defaultDeps(): VerifyDeps {
  return {
    now: Date.now,
    cache: getKeyCache(),
    // The policy falls back to an in-process limiter when the shared store fails (fail open).
    limitKey: (keyId, max) => limit(POLICIES.apiKey, keyId, { limit: max }),
    spendQuota: async (org) => {
      const q = await getRateLimiter().quota.consume(org.id, org.monthlyQuota);
      return { allowed: q.allowed, used: q.used, limit: q.limit, resetAt: q.reset };
    },
    failAddress: (ip) => limit(POLICIES.verifyFailuresPerAddress, ip),
    // Rate limit then quota through the limiter's one-step path. Both fail open inside it: an
    // outage answers the in-process rate limit and a quota marked degraded (treated as absent).
    limitRequest: async (key) => {
      const out = await limitKeyRequest({
        apiKeyId: key.id,
        organizationId: key.organization.id,
        requestsPerMinute: effectiveRateLimit(key),
        monthlyQuota: key.organization.monthlyQuota,
      });
      const q = out.quota;
      return {
        ratelimit: out.rateLimit,
        quota:
          q && !q.degraded
            ? { allowed: q.allowed, used: q.used, limit: q.limit, resetAt: q.reset }
            : null,
      };
    },
  };
}

let depsOverride: Partial<VerifyDeps> | null = null;
/** Tests: replace some of verify's collaborators (clock, cache, limiter, quota). */
export function setVerifyDeps(deps: Partial<VerifyDeps> | null): void {
  depsOverride = deps;
}
function verifyDeps(): VerifyDeps {
  const o = depsOverride;
  if (!o) return defaultDeps();
  const deps = { ...defaultDeps(), ...o };
  if ((o.limitKey || o.spendQuota) && !o.limitRequest) deps.limitRequest = undefined;
  return deps;
}

export function toCachedKey(row: ApiKeyWithOrganization): CachedKey {
  const o = row.organization;
  return {
    id: row.id,
    organizationId: row.organizationId,
    keyHash: row.keyHash,
    name: row.name,
    prefix: row.prefix,
    hint: row.hint,
    environment: row.environment === "TEST" ? "test" : "live",
    status: row.status === "REVOKED" ? "revoked" : row.status === "EXPIRED" ? "expired" : "active",
    scopes: [...row.scopes],
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    rateLimitPerMinute: row.rateLimitPerMinute,
    organization: {
      id: o.id,
      name: o.name,
      slug: o.slug,
      plan: o.plan,
      isActive: o.isActive,
      rateLimitPerMinute: o.rateLimitPerMinute,
      monthlyQuota: o.monthlyQuota,
      maxActiveKeys: o.maxActiveKeys,
    },
  };
}

/** The key's effective per-minute limit: its own, else its organization's (plan) limit. */
export function effectiveRateLimit(key: CachedKey): number {
  return key.rateLimitPerMinute ?? key.organization.rateLimitPerMinute;
}

const AUTH_FAILURES: ReadonlySet<VerifyCode> = new Set([
  "INVALID_FORMAT",
  "NOT_FOUND",
  "REVOKED",
  "EXPIRED",
]);

/**
 * format -> hash -> lookup (cached) -> status, expiry, organization -> scopes -> rate limit ->
 * quota. Cheapest checks first; the quota is spent last, only by a request that passed the rest.
 */
export async function verifyKey(
  db: Db,
  input: VerifyInput,
  deps: VerifyDeps = verifyDeps(),
): Promise<VerifyOutcome> {
  const outcome = await evaluate(db, input, deps);
  if (input.ip && AUTH_FAILURES.has(outcome.code) && !outcome.addressLimit) {
    // Only failures spend the address's budget: a service verifying many valid keys from one
    // address is never throttled by address. If the limiter fails, we fail open here: the
    // address limit guards the database, it is not what makes a bad key invalid.
    outcome.addressLimit = (await deps.failAddress(input.ip).catch(() => null)) ?? undefined;
  }
  return outcome;
}

async function evaluate(db: Db, input: VerifyInput, deps: VerifyDeps): Promise<VerifyOutcome> {
  const fail = (code: VerifyCode, key: CachedKey | null = null): VerifyOutcome => ({
    valid: false,
    code,
    key,
    ratelimit: null,
  });
  if (!isValidKeyFormat(input.key)) return fail("INVALID_FORMAT");
  const hash = hashKey(input.key);
  let key: CachedKey | null;
  const cached = deps.cache.get(hash);
  if (cached.hit) {
    key = cached.value;
  } else {
    // Even an address over its failed-attempt budget gets the lookup: a valid key must never be
    // throttled by address (one service may verify thousands of keys from one address). The
    // budget changes only what a failure answers (429), and the negative cache absorbs repeats.
    const row = await apiKeyRepository.getByHash(db, hash);
    // The index found the row by hash; the constant-time comparison is the check we rely on.
    key = row && keyMatchesHash(input.key, row.keyHash) ? toCachedKey(row) : null;
    deps.cache.set(hash, key);
  }
  if (!key) return fail("NOT_FOUND");
  const now = deps.now();
  if (key.status === "revoked") return fail("REVOKED", key);
  if (key.status === "expired" || (key.expiresAt !== null && key.expiresAt <= now)) {
    return fail("EXPIRED", key);
  }
  if (!key.organization.isActive) return fail("ORG_INACTIVE", key);
  const required = input.scopes ?? [];
  if (required.some((s) => !key.scopes.includes(s))) return fail("INSUFFICIENT_SCOPE", key);

  const { ratelimit, quota } = deps.limitRequest
    ? await deps.limitRequest(key, db).catch(failedOpen)
    : await limitThenSpend(deps, key, db);
  if (ratelimit && !ratelimit.allowed) {
    return { valid: false, code: "RATE_LIMITED", key, ratelimit };
  }
  if (quota && !quota.allowed) {
    return { valid: false, code: "QUOTA_EXCEEDED", key, ratelimit, quotaResetAt: quota.resetAt };
  }
  return { valid: true, code: "VALID", key, ratelimit };
}

// Fail open: a limiter outage (e.g. Redis down) must not take the team's API down with it.
const failedOpen = (): RequestLimits => ({ ratelimit: null, quota: null });

/** The rate limit, then (only when it admitted) the quota, one call each; each fails open. */
async function limitThenSpend(deps: VerifyDeps, key: CachedKey, db: Db): Promise<RequestLimits> {
  let ratelimit: RateLimitResult | null = null;
  try {
    ratelimit = await deps.limitKey(key.id, effectiveRateLimit(key));
  } catch {
    ratelimit = null;
  }
  if (ratelimit && !ratelimit.allowed) return { ratelimit, quota: null };
  let quota: QuotaCheck | null = null;
  try {
    quota = await deps.spendQuota(key.organization, db);
  } catch {
    quota = null;
  }
  return { ratelimit, quota };
}

/** The public verify answer (`POST /api/v1/keys/verify`). */
export function toVerifyResult(
  outcome: VerifyOutcome,
  now: number = Date.now(),
): VerifyResultOutput {
  const k = outcome.key;
  const rl = outcome.ratelimit;
  return {
    valid: outcome.valid,
    code: outcome.code,
    keyId: k?.id ?? null,
    organizationId: k?.organizationId ?? null,
    environment: k?.environment ?? null,
    scopes: k ? [...k.scopes] : [],
    expiresAt: k?.expiresAt ? new Date(k.expiresAt).toISOString() : null,
    ratelimit: rl
      ? {
          limit: rl.limit,
          remaining: Math.max(0, rl.remaining),
          reset: Math.max(0, Math.ceil((rl.reset - now) / 1000)),
        }
      : null,
  };
}

// ---------------------------------------------------------------------------------------------
// The calling key (GET /api/v1/me)

export async function describeCaller(db: Db, key: CachedKey, now: Date = new Date()) {
  const o = key.organization;
  // The quota counter's own view (what verify spends), not the metered rows: those lag the
  // recorder's flush by up to a second and include calls that spent no quota.
  let requests: number;
  try {
    requests = (await getRateLimiter().quota.peek(o.id, o.monthlyQuota)).used;
  } catch {
    requests = await usageRepository.getMonthlyUsage(db, key.organizationId, now);
  }
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    hint: key.hint,
    environment: key.environment,
    scopes: [...key.scopes],
    expiresAt: key.expiresAt ? new Date(key.expiresAt).toISOString() : null,
    organization: { id: o.id, name: o.name, slug: o.slug, plan: o.plan },
    limits: {
      rateLimitPerMinute: effectiveRateLimit(key),
      monthlyQuota: o.monthlyQuota,
      maxActiveKeys: o.maxActiveKeys,
    },
    usage: {
      month: now.toISOString().slice(0, 7),
      requests,
      quotaRemaining: Math.max(0, o.monthlyQuota - requests),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Usage report (GET /api/v1/usage)

export interface UsageReportInput {
  from?: Date | string;
  to?: Date | string;
  granularity?: "hour" | "day";
  keyId?: string;
  endpoint?: string;
}

const MAX_BUCKETS = { hour: 24 * 31, day: 366 } as const;

export async function getUsageReport(
  db: Db,
  organizationId: string,
  input: UsageReportInput,
  visibility: Visibility = {},
) {
  const granularity = input.granularity ?? "day";
  const to = toDate(input.to, "to") ?? new Date();
  const from = toDate(input.from, "from") ?? new Date(to.getTime() - 30 * 86_400_000);
  if (from.getTime() >= to.getTime()) {
    throw validationFailed([{ path: "from", message: "`from` must be before `to`." }]);
  }
  const unitMs = granularity === "hour" ? 3_600_000 : 86_400_000;
  if ((to.getTime() - from.getTime()) / unitMs > MAX_BUCKETS[granularity]) {
    throw validationFailed([
      {
        path: "from",
        message: `At most ${MAX_BUCKETS[granularity]} ${granularity}s per report; narrow the range or use a coarser granularity.`,
      },
    ]);
  }
  const empty = { from: from.toISOString(), to: to.toISOString(), granularity };
  // A key that is not the organization's (or not visible) reports nothing, like a missing one.
  if (input.keyId !== undefined) {
    const key = isUuid(input.keyId)
      ? visible(await apiKeyRepository.getById(db, organizationId, input.keyId), visibility)
      : null;
    if (!key) throw notFound("key");
  }
  const filters = {
    keyId: input.keyId,
    endpoint: input.endpoint,
    environment: visibility.environment ? toDbEnvironment(visibility.environment) : undefined,
  };
  const [series, t] = await Promise.all([
    usageRepository.getTimeSeries(db, organizationId, { from, to, granularity, ...filters }),
    // Totals over the whole range from the rollups themselves (exact sums, one merged latency
    // histogram), not re-added from the series' rounded per-bucket figures.
    usageRepository.getRangeStats(db, organizationId, from, to, filters),
  ]);
  return {
    ...empty,
    totals: {
      requests: t.requests,
      errors: t.errors,
      tokens: t.tokens,
      costUsd: t.costUsd,
      avgResponseTimeMs: t.avgLatencyMs === null ? 0 : Math.round(t.avgLatencyMs * 100) / 100,
      p50ResponseTimeMs: t.p50LatencyMs,
      p95ResponseTimeMs: t.p95LatencyMs,
    },
    series,
  };
}
