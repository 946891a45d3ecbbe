// /api/v1/me and /api/v1/keys/**: a key acts only inside its own organization, and a test key
// sees only test keys.
import { KeywardError } from "@/lib/errors";
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
} from "@/lib/services/api-key-service";
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
import { type AuthContext, defineRoute } from "../route";

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
    "Creates a key in the calling key's organization. The response holds the whole key this once.",
  path: "/api/v1/keys",
  method: "POST",
  auth: "key",
  scopes: ["keys:write"],
  body: CreateKeyBodySchema,
  output: CreatedKeySchema,
  status: 201,
  async handler(ctx) {
    const caller = ctx.auth.key;
    const environment = ctx.body.environment ?? caller.environment;
    if (caller.environment === "test" && environment !== "test") {
      throw new KeywardError("FORBIDDEN", "A test key can create test keys only.", {
        issues: [{ path: "environment", message: "A test key can create test keys only." }],
      });
    }
    const { key, apiKey } = await createKey(
      ctx.db,
      {
        organizationId: caller.organizationId,
        name: ctx.body.name,
        environment,
        scopes: ctx.body.scopes,
        expiresAt: ctx.body.expiresAt,
        rateLimitPerMinute: ctx.body.rateLimitPerMinute,
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
  auth: "key",
  scopes: ["keys:read"],
  params: IdParamsSchema,
  output: KeySchema,
  handler: (ctx) =>
    getKey(ctx.db, ctx.auth.key.organizationId, ctx.params.id, visibilityOf(ctx.auth)),
});

export const updateKeyRoute = defineRoute({
  summary: "Update a key",
  description: "Changes name, scopes, expiry or per-key rate limit (`null`: the plan's).",
  resource: "key",
  path: "/api/v1/keys/{id}",
  method: "PATCH",
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
    "Creates a successor with the same name, scopes, environment and limit, shown once; the old key keeps working until the grace period ends (never past its own expiry).",
  resource: "key",
  path: "/api/v1/keys/{id}/rotate",
  method: "POST",
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
