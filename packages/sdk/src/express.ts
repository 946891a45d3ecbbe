// Express (4 and 5) middleware, typed structurally: this package does not depend on express.
import type { Keyward, KeywardContext, ProtectOptions } from "./keyward";

export interface ExpressLikeRequest {
  method: string;
  url: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Express's client address (after its `trust proxy` setting). */
  ip?: string;
  socket?: { remoteAddress?: string };
}
export interface ExpressLikeResponse {
  statusCode: number;
  locals?: Record<string, unknown>;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  once(event: "finish" | "close", listener: () => void): unknown;
}

const contexts = new WeakMap<object, KeywardContext>();

/** The verified key and meter of a request the middleware let through (also `res.locals.keyward`). */
export function getKeyward(req: object): KeywardContext {
  const ctx = contexts.get(req);
  if (!ctx) throw new Error("keyward: this request did not pass through keyward.express()");
  return ctx;
}

export type ExpressMiddleware = (
  req: ExpressLikeRequest,
  res: ExpressLikeResponse,
  next: (err?: unknown) => void,
) => void;

export function expressMiddleware(keyward: Keyward, route: ProtectOptions = {}): ExpressMiddleware {
  return (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (err?: unknown) => void) => {
    keyward
      .admit(
        {
          method: req.method,
          url: req.originalUrl ?? req.url,
          authorization: req.headers.authorization,
          xApiKey: req.headers["x-api-key"],
          ip: req.ip ?? req.socket?.remoteAddress,
        },
        route,
      )
      .then((admission) => {
        for (const [k, v] of Object.entries(admission.headers)) res.setHeader(k, v);
        if (!admission.ok) {
          res.statusCode = admission.status;
          res.end(JSON.stringify(admission.problem));
          return;
        }
        const ctx = admission.ctx;
        contexts.set(req, ctx);
        if (res.locals) res.locals.keyward = ctx;
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          keyward.record(ctx, res.statusCode);
        };
        res.once("finish", finish);
        res.once("close", finish);
        next();
      }, next);
  };
}
