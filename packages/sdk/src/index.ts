// @keyward/sdk: a typed client for Keyward's API and middleware that verifies API keys and
// meters usage (fetch-style for Next.js route handlers and Hono, and Express).
import { type ExpressMiddleware, expressMiddleware } from "./express";
import { type ProtectedHandler, protect } from "./fetch";
import { Keyward as KeywardCore, type KeywardOptions, type ProtectOptions } from "./keyward";

export {
  type components,
  createKeywardClient,
  type KeywardClient,
  type KeywardClientOptions,
  type paths,
} from "./client";
export {
  type ExpressLikeRequest,
  type ExpressLikeResponse,
  type ExpressMiddleware,
  getKeyward,
} from "./express";
export type { ProtectedHandler } from "./fetch";
export {
  type Admission,
  type KeywardContext,
  type KeywardOptions,
  type KeywardReportError,
  MAX_CACHE_TTL_MS,
  type ProtectOptions,
  type ReportedUsageEvent,
  RequestMeter,
  readKey,
  type VerifiedKey,
} from "./keyward";
export { type Problem, type ProblemCode, problemOf } from "./problem";

/** Keyward middleware for one service: create it once, use it on every protected route. */
export class Keyward extends KeywardCore {
  /** Fetch-style: `export const POST = keyward.protect(async (req, { key }) => Response.json(…))`. */
  protect<A extends unknown[]>(handler: ProtectedHandler<A>, route?: ProtectOptions) {
    return protect(this, handler, route);
  }
  /** Express: `app.use("/v1", keyward.express())`; the handler reads `getKeyward(req)`. */
  express(route?: ProtectOptions): ExpressMiddleware {
    return expressMiddleware(this, route);
  }
}

export function createKeyward(opts: KeywardOptions): Keyward {
  return new Keyward(opts);
}
