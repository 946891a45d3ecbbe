// /api/v1/me and /api/v1/keys/**: a key acts only inside its own organization, and a test key
// sees only test keys.
import { keyActor } from "@/lib/services/actor";
import {
  createKey,
  describeCaller,
  getKey,
  listKeys,
  revokeKey,
  rotateKey,
  updateKey,
  type Visibility,
} from "@/lib/services/keys";
import { IdParamsSchema } from "@/lib/validation/common";
import {
  CreatedKeySchema,
  CreateKeyBodySchema,
  KeyListSchema,
  KeySchema,
  ListKeysQuerySchema,
  MeSchema,
  RevokeKeyBodySchema,
  RotatedKeySchema,
  RotateKeyBodySchema,
  UpdateKeyBodySchema,
} from "@/lib/validation/keys";
import { defineRoute } from "../route";
import type { AuthContext } from "../types";

export function visibilityOf(auth: AuthContext): Visibility {
  return auth.key.environment === "test" ? { environment: "test" } : {};
}
const actorOf = (auth: AuthContext, ip: string) => keyActor(auth.key.id, ip);

export const meRoute = defineRoute({
  summary: "The calling key",
  description:
    "The key that made this request: its scopes, organization, effective limits and this month's usage.",
  path: "/api/v1/me",
  method: "GET",
  operationId: "getMe",
  tag: "Keys",
  auth: "key",
  output: MeSchema,
  handler: (ctx) => describeCaller(ctx.db, ctx.auth.key),
});

export const listKeysRoute = defineRoute({
  summary: "List keys",
  description:
    "The organization's keys, newest first, with cursor pagination. A test key sees only test keys.",
  path: "/api/v1/keys",
  method: "GET",
  operationId: "listKeys",
  tag: "Keys",
  auth: "key",
  scopes: ["keys:read"],
  query: ListKeysQuerySchema,
  output: KeyListSchema,
  async handler(ctx) {
    const page = await listKeys(
      ctx.db,
      ctx.auth.key.organizationId,
      ctx.query,
      visibilityOf(ctx.auth),
    );
    return { data: page.items, nextCursor: page.nextCursor };
  },
});

export const createKeyRoute = defineRoute({
  summary: "Create a key",
  description:
    "Creates a key in the calling key's organization. The response holds the whole key this once. A key grants only what it holds: scopes among its own, an expiry no later than its own (an omitted expiry is the caller's; `null` from a key that expires is refused), a limit no higher than its own effective limit (an omitted limit is the caller's when the plan's is higher), and a test key makes test keys only; anything past that is 403 PRIVILEGE_CEILING naming the field. Counts against the plan's active keys, grace-period keys included (409 KEY_LIMIT_REACHED).",
  path: "/api/v1/keys",
  method: "POST",
  operationId: "createKey",
  tag: "Keys",
  errors: ["PRIVILEGE_CEILING", "ORG_INACTIVE", "KEY_LIMIT_REACHED"],
  auth: "key",
  scopes: ["keys:write"],
  body: CreateKeyBodySchema,
  output: CreatedKeySchema,
  status: 201,
  async handler(ctx) {
    const caller = ctx.auth.key;
    // The service holds the request to the caller's own rights (environment included).
    const { key, apiKey } = await createKey(
      ctx.db,
      {
        organizationId: caller.organizationId,
        name: ctx.body.name,
        environment: ctx.body.environment ?? caller.environment,
        scopes: ctx.body.scopes,
        expiresAt: ctx.body.expiresAt,
        rateLimitPerMinute: ctx.body.rateLimitPerMinute,
        credits: ctx.body.credits,
        spendLimitUsd: ctx.body.spendLimitUsd,
        allowedCidrs: ctx.body.allowedCidrs,
        externalId: ctx.body.externalId,
        meta: ctx.body.meta,
      },
      actorOf(ctx.auth, ctx.request.ip),
    );
    return { ...apiKey, key };
  },
});

export const getKeyRoute = defineRoute({
  summary: "Get a key",
  resource: "key",
  path: "/api/v1/keys/{id}",
  method: "GET",
  operationId: "getKey",
  tag: "Keys",
  auth: "key",
  scopes: ["keys:read"],
  params: IdParamsSchema,
  output: KeySchema,
  handler: (ctx) =>
    getKey(ctx.db, ctx.auth.key.organizationId, ctx.params.id, visibilityOf(ctx.auth)),
});

export const updateKeyRoute = defineRoute({
  summary: "Update a key",
  description:
    "Changes name, scopes, expiry, per-key rate limit (`null`: the plan's), credits (`remaining` sets the live balance; `null`: none) or the monthly spend cap, each within the calling key's own rights (403 PRIVILEGE_CEILING naming the field). A key may rename itself but never change its own scopes, expiry, limit, credits or spend cap.",
  resource: "key",
  path: "/api/v1/keys/{id}",
  method: "PATCH",
  operationId: "updateKey",
  tag: "Keys",
  errors: ["PRIVILEGE_CEILING", "CONFLICT"],
  auth: "key",
  scopes: ["keys:write"],
  params: IdParamsSchema,
  body: UpdateKeyBodySchema,
  output: KeySchema,
  handler: (ctx) =>
    updateKey(
      ctx.db,
      ctx.auth.key.organizationId,
      ctx.params.id,
      ctx.body,
      actorOf(ctx.auth, ctx.request.ip),
      visibilityOf(ctx.auth),
    ),
});

export const revokeKeyRoute = defineRoute({
  summary: "Revoke a key",
  description:
    "Revokes the key at once (within a second on every instance). Revoking twice keeps the first revocation.",
  resource: "key",
  path: "/api/v1/keys/{id}",
  method: "DELETE",
  operationId: "revokeKey",
  tag: "Keys",
  auth: "key",
  scopes: ["keys:write"],
  params: IdParamsSchema,
  body: RevokeKeyBodySchema,
  bodyOptional: true,
  output: KeySchema,
  handler: (ctx) =>
    revokeKey(
      ctx.db,
      ctx.auth.key.organizationId,
      ctx.params.id,
      { reason: ctx.body.reason },
      actorOf(ctx.auth, ctx.request.ip),
      visibilityOf(ctx.auth),
    ),
});

export const rotateKeyRoute = defineRoute({
  summary: "Rotate a key",
  description:
    "Creates a successor with the same name, scopes, environment, limit and expiry, shown once; the old key keeps working until the grace period ends (never past its own expiry). A key rotates only keys within its own rights (403 PRIVILEGE_CEILING). With a grace period the successor takes a slot under the plan's active keys (409 KEY_LIMIT_REACHED at the limit); with `none` the old key is revoked at once and no slot is needed.",
  resource: "key",
  path: "/api/v1/keys/{id}/rotate",
  method: "POST",
  operationId: "rotateKey",
  tag: "Keys",
  errors: ["PRIVILEGE_CEILING", "ORG_INACTIVE", "CONFLICT", "KEY_LIMIT_REACHED"],
  auth: "key",
  scopes: ["keys:write"],
  params: IdParamsSchema,
  body: RotateKeyBodySchema,
  bodyOptional: true,
  output: RotatedKeySchema,
  async handler(ctx) {
    const r = await rotateKey(
      ctx.db,
      ctx.auth.key.organizationId,
      ctx.params.id,
      { gracePeriod: ctx.body.gracePeriod },
      actorOf(ctx.auth, ctx.request.ip),
      visibilityOf(ctx.auth),
    );
    return { ...r.apiKey, key: r.key, previousKey: r.previousKey };
  },
});
