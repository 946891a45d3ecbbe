// The framework-neutral request and response the route core works on. Adapters turn a fetch
// Request (Next route handlers) or a node:http IncomingMessage (the lean server) into these.
import type { RateLimitResult } from "@/lib/ratelimit/types";
import type { CachedKey } from "@/lib/services/key-cache";

export interface HeaderSource {
  get(name: string): string | null;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers: HeaderSource;
  /** The client's address (best effort). */
  ip: string;
  /** Reads the whole body as text; throws PAYLOAD_TOO_LARGE past `limit` bytes. */
  readBody(limit: number): Promise<string>;
}

/** What a route answers: a status, lowercase header names, and a JSON body (or none). */
export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Who called a route that needs a key: the verified key and its rate-limit state. */
export interface AuthContext {
  key: CachedKey;
  ratelimit: RateLimitResult | null;
}
