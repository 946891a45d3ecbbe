// POST /api/v1/keys/verify: anyone may ask; the answer is data (200, `valid` and `code`) for every
// well-formed request. Failed attempts are limited per client address; a valid key counts only
// against its own limit.
import { toVerifyResult, verifyKey } from "@/lib/services/verify";
import { VerifyBodySchema, VerifyResultSchema } from "@/lib/validation/keys";
import { outcomeError } from "../auth";
import { rateLimitHeaders } from "../ratelimit-headers";
import { defineRoute } from "../route";

export const verifyRoute = defineRoute({
  summary: "Verify a key",
  description:
    "Checks a key (and optionally scopes) and counts it against its spend caps, rate limit, quota and credits (`cost`, default 1). Answers 200 with `valid` and a stable `code` for every well-formed request; repeated failures from one address are answered 429.",
  path: "/api/v1/keys/verify",
  method: "POST",
  operationId: "verifyKey",
  tag: "Keys",
  // Repeated failures from one address.
  errors: ["RATE_LIMITED"],
  auth: "none",
  body: VerifyBodySchema,
  output: VerifyResultSchema,
  async handler(ctx) {
    const now = Date.now();
    const outcome = await verifyKey(ctx.db, {
      key: ctx.body.key,
      scopes: ctx.body.scopes,
      endpoint: "/api/v1/keys/verify",
      ip: ctx.request.ip,
      cost: ctx.body.cost,
      clientIp: ctx.body.ip,
    });
    if (outcome.addressLimit && !outcome.addressLimit.allowed) {
      throw outcomeError(outcome, ctx.headers, now);
    }
    if (outcome.key) {
      ctx.meterAs = { apiKeyId: outcome.key.id, organizationId: outcome.key.organizationId };
      // Refusals answer 200 too; only a VALID answer spent the organization's quota.
      ctx.billable = outcome.code === "VALID";
    }
    if (outcome.ratelimit) Object.assign(ctx.headers, rateLimitHeaders(outcome.ratelimit, now));
    return toVerifyResult(outcome, now);
  },
});
