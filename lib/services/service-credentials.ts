// Service credentials (PRODUCT.md section 13): the operator's own services report usage for
// their customers' keys with one of these instead of the customer's key. Created by the CLI,
// shown once, stored as SHA-256, revocable; scope `usage:report`; optionally held to one
// organization. They authenticate POST /api/v1/usage/events and nothing else.
import type { Db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { hashKey, verifyKey as matchesHash } from "@/lib/keys/hash";
import {
  generateServiceCredential,
  isServiceCredentialFormat,
} from "@/lib/keys/service-credential";
import { limit, POLICIES } from "@/lib/ratelimit/policies";
import type { RateLimitResult } from "@/lib/ratelimit/types";
import { auditRepository } from "@/lib/repositories/audit-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import {
  type ServiceCredentialWithOrganization,
  serviceCredentialRepository,
} from "@/lib/repositories/service-credential-repository";
import type { PageOptions } from "@/lib/repositories/shared";
import type { ServiceScope } from "@/lib/validation/service-credentials";
import { type Actor, actorLabel } from "./actor";
import { acceptUsageEvents, type EventOwner, type UsageIntakeResult } from "./usage-intake";
import type { UsageEvent } from "./usage-recorder";

/** What the CLI shows of a credential: never its secret or hash. */
export interface ServiceCredentialView {
  id: string;
  name: string;
  prefix: string;
  hint: string;
  scopes: string[];
  /** The organization's slug when the credential is held to one; null: every organization. */
  organization: string | null;
  organizationId: string | null;
  status: "active" | "revoked";
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedServiceCredential {
  credential: ServiceCredentialView;
  /** The plaintext, `ksvc_…`: shown once, never stored. */
  secret: string;
}

/** The caller of a route authenticated by a service credential. */
export interface ServiceCaller {
  id: string;
  name: string;
  /** null: it may report for the keys of every organization. */
  organizationId: string | null;
  scopes: string[];
}

function toView(row: ServiceCredentialWithOrganization): ServiceCredentialView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    hint: row.hint,
    scopes: [...row.scopes],
    organization: row.organization?.slug ?? null,
    organizationId: row.organizationId,
    status: row.revokedAt ? "revoked" : "active",
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

// Audit rows belong to an organization: a credential held to one is audited there; one that
// covers the whole instance is the operator's own and has no organization to be audited in.
function audit(
  tx: Parameters<typeof auditRepository.create>[0],
  actor: Actor,
  row: ServiceCredentialWithOrganization,
  action: "service_credential.created" | "service_credential.revoked",
) {
  if (!row.organizationId) return;
  return auditRepository.create(tx, {
    organizationId: row.organizationId,
    actorType: actor.type,
    actorId: actor.id ?? null,
    action,
    targetType: "service_credential",
    targetId: row.id,
    metadata: { name: row.name, scopes: row.scopes, prefix: row.prefix, hint: row.hint },
    ipAddress: actor.ip ?? null,
  });
}

export async function createServiceCredential(
  db: Db,
  input: { name: string; scopes: readonly ServiceScope[]; orgSlug?: string },
  actor: Actor,
): Promise<CreatedServiceCredential> {
  let organizationId: string | null = null;
  if (input.orgSlug !== undefined) {
    const org = await organizationRepository.getBySlug(db, input.orgSlug);
    if (!org) throw notFound("organization");
    organizationId = org.id;
  }
  const material = generateServiceCredential();
  const row = await db.$transaction(async (tx) => {
    const created = await serviceCredentialRepository.create(tx, {
      name: input.name,
      secretHash: material.hash,
      prefix: material.prefix,
      hint: material.hint,
      scopes: [...input.scopes],
      organizationId,
      createdBy: actorLabel(actor),
    });
    await audit(tx, actor, created, "service_credential.created");
    return created;
  });
  return { credential: toView(row), secret: material.secret };
}

export async function listServiceCredentials(
  db: Db,
  options: PageOptions = {},
): Promise<{ items: ServiceCredentialView[]; nextCursor: string | null }> {
  const page = await serviceCredentialRepository.list(db, options);
  return { items: page.items.map(toView), nextCursor: page.nextCursor };
}

/** Revokes at once (no cache holds credentials); revoking a revoked one changes nothing. */
export async function revokeServiceCredential(
  db: Db,
  id: string,
  actor: Actor,
): Promise<ServiceCredentialView> {
  const row = await db.$transaction(async (tx) => {
    const found = await serviceCredentialRepository.getById(tx, id);
    if (!found) throw notFound("service credential");
    if (found.revokedAt) return found;
    if (await serviceCredentialRepository.revoke(tx, id, actorLabel(actor))) {
      await audit(tx, actor, found, "service_credential.revoked");
    }
    return (await serviceCredentialRepository.getById(tx, id)) ?? found;
  });
  return toView(row);
}

// ---------------------------------------------------------------------------------------------
// Authentication

export type ServiceAuthOutcome =
  | { ok: true; caller: ServiceCaller }
  | {
      ok: false;
      code: "INVALID_FORMAT" | "NOT_FOUND" | "REVOKED" | "INSUFFICIENT_SCOPE";
      /** Set when the failure was counted against the address; not allowed = throttled. */
      addressLimit?: RateLimitResult;
    };

const LAST_USED_EVERY_MS = 60_000;
const lastUsedWritten = new Map<string, number>();

/**
 * Looks the credential up by its hash (no cache: a revocation holds from the next request) and
 * checks the scopes. Failures spend the client address's failed-attempt budget, as verify's do.
 */
export async function authenticateServiceCredential(
  db: Db,
  secret: string,
  opts: { scopes: readonly string[]; ip?: string; now?: number },
): Promise<ServiceAuthOutcome> {
  const now = opts.now ?? Date.now();
  const outcome = await evaluate(db, secret, opts.scopes, now);
  if (!outcome.ok && outcome.code !== "INSUFFICIENT_SCOPE" && opts.ip) {
    // Fails open like verify's: the address budget guards the database, it does not decide.
    outcome.addressLimit =
      (await limit(POLICIES.verifyFailuresPerAddress, opts.ip).catch(() => null)) ?? undefined;
  }
  return outcome;
}

async function evaluate(
  db: Db,
  secret: string,
  scopes: readonly string[],
  now: number,
): Promise<ServiceAuthOutcome> {
  if (!isServiceCredentialFormat(secret)) return { ok: false, code: "INVALID_FORMAT" };
  const row = await serviceCredentialRepository.getByHash(db, hashKey(secret));
  // The index found the row by hash; the constant-time comparison is the check we rely on.
  if (!row || !matchesHash(secret, row.secretHash)) return { ok: false, code: "NOT_FOUND" };
  if (row.revokedAt) return { ok: false, code: "REVOKED" };
  if (scopes.some((s) => !row.scopes.includes(s))) {
    return { ok: false, code: "INSUFFICIENT_SCOPE" };
  }
  const last = lastUsedWritten.get(row.id) ?? 0;
  if (now - last >= LAST_USED_EVERY_MS) {
    lastUsedWritten.set(row.id, now);
    // A bookkeeping write: never fails the request.
    await serviceCredentialRepository.touchLastUsed(db, row.id, new Date(now)).catch(() => {});
  }
  return {
    ok: true,
    caller: {
      id: row.id,
      name: row.name,
      organizationId: row.organizationId,
      scopes: [...row.scopes],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Usage reported with a service credential

/**
 * Usage events a service reports for its customers' keys: each event names its key in `keyId`
 * and is metered to that key and its organization. An event without `keyId`, or naming a key
 * that is unknown (or of another organization than the credential's), revoked or expired, is
 * refused on its own; the rest are accepted as a key's own report would be. The keys are read in
 * one query per batch.
 */
export async function acceptServiceUsageEvents(
  db: Db,
  caller: ServiceCaller,
  events: readonly unknown[],
  record: (event: UsageEvent) => boolean,
  now: number = Date.now(),
): Promise<UsageIntakeResult> {
  const ids = new Set<string>();
  for (const e of events) {
    const keyId = (e as { keyId?: unknown } | null)?.keyId;
    if (typeof keyId === "string") ids.add(keyId);
  }
  const rows = await serviceCredentialRepository.findReportedKeys(
    db,
    [...ids],
    caller.organizationId,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const owner: EventOwner = (keyId) => {
    if (keyId === undefined) {
      return {
        refuse: "VALIDATION_FAILED",
        message: "Required with a service credential: the keyId that verify returned.",
      };
    }
    const key = byId.get(keyId);
    // Another organization's key (for a credential held to one) looks exactly like a missing one.
    if (!key) return { refuse: "KEY_NOT_FOUND", message: "No such key." };
    if (key.status === "REVOKED") return { refuse: "KEY_REVOKED", message: "The key is revoked." };
    if (key.status === "EXPIRED" || (key.expiresAt && key.expiresAt.getTime() <= now)) {
      return { refuse: "KEY_EXPIRED", message: "The key has expired." };
    }
    return { id: key.id, organizationId: key.organizationId };
  };
  return acceptUsageEvents(events, owner, record, now);
}
