// Creates a key: the plaintext is returned this once, only its hash is stored.
import type { Db } from "@/lib/db";
import { KeywardError, notFound } from "@/lib/errors";
import { generateKey, toDbEnvironment } from "@/lib/keys";
import { apiKeyRepository } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import {
  AllowedCidrsSchema,
  ExternalIdSchema,
  KeyNameSchema,
  MetaSchema,
  RateLimitPerMinuteSchema,
  ScopesSchema,
} from "@/lib/validation/keys";
import { type Actor, actorLabel } from "../actor";
import { writeAudit } from "../audit";
import { getKeyCache } from "../key-cache";
import { applyCeiling } from "../privilege-ceiling";
import { emitWebhookEvent } from "../webhooks/emit";
import { type BudgetInput, budgetAudit, budgetColumns, pinStartingBalance } from "./credits";
import { checkKeyPolicy, isAdminActor, policyOf } from "./policy";
import {
  assertKeySlot,
  ceilingOf,
  check,
  type EnvironmentInput,
  environmentOf,
  futureExpiry,
  iso,
  isUuid,
  type KeyView,
  toDate,
  toKeyView,
} from "./shared";

export interface CreateKeyInput {
  organizationId: string;
  name: string;
  environment: EnvironmentInput;
  scopes?: string[];
  expiresAt?: Date | string | null;
  rateLimitPerMinute?: number | null;
  metadata?: Record<string, unknown> | null;
  /** Credits (starting balance, refill) and the monthly spend cap. */
  credits?: BudgetInput["credits"];
  spendLimitUsd?: BudgetInput["spendLimitUsd"];
  /** Networks the key may be used from (normalized here); empty or omitted: anywhere. */
  allowedCidrs?: string[];
  externalId?: string | null;
  meta?: Record<string, unknown> | null;
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
  const budget = budgetColumns({ credits: input.credits, spendLimitUsd: input.spendLimitUsd });
  const allowedCidrs = check(AllowedCidrsSchema, input.allowedCidrs ?? [], "allowedCidrs");
  const externalId = check(ExternalIdSchema.nullable(), input.externalId ?? null, "externalId");
  const meta = check(MetaSchema.nullable(), input.meta ?? null, "meta");
  if (!isUuid(input.organizationId)) throw notFound("organization");

  const generated = generateKey(environment);
  const record = await db.$transaction(async (tx) => {
    // The organization row is the lock that keeps two creates from both passing the limit.
    if (!(await organizationRepository.lockForUpdate(tx, input.organizationId)))
      throw notFound("organization");
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
          {
            environment,
            scopes,
            expiresAt: givenExpiry,
            rateLimitPerMinute: givenLimit,
            // Omitted stays apart from "anywhere" (empty) until the ceiling has seen it.
            allowedCidrs: input.allowedCidrs === undefined ? undefined : allowedCidrs,
          },
          "create",
        )
      : { expiresAt: givenExpiry, rateLimitPerMinute: givenLimit };
    const expiresAt = grant.expiresAt ?? null;
    const rateLimitPerMinute = grant.rateLimitPerMinute ?? null;
    const networks = grant.allowedCidrs ? [...grant.allowedCidrs] : allowedCidrs;
    checkKeyPolicy(
      policyOf(org),
      {
        environment,
        expiresAt,
        from: now,
        byAdmin: await isAdminActor(tx, org.id, actor),
      },
      "create",
    );
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
      budget,
      // generateKey's tokens carry the checksum (lib/keys/checksum.ts).
      checksummed: true,
      allowedCidrs: networks,
      externalId,
      meta,
    });
    await writeAudit(tx, actor, {
      organizationId: org.id,
      action: "key.created",
      target: { type: "api_key", id: created.id },
      metadata: {
        name,
        environment,
        scopes,
        expiresAt: iso(expiresAt),
        rateLimitPerMinute,
        allowedCidrs: networks,
        externalId,
        prefix: generated.prefix,
        hint: generated.hint,
        ...budgetAudit(budget),
      },
    });
    await emitWebhookEvent(tx, org.id, "key.created", { key: toKeyView(created, now) });
    return created;
  });
  getKeyCache().invalidate(generated.hash);
  await pinStartingBalance(record);
  return { key: generated.key, apiKey: toKeyView(record, now) };
}
