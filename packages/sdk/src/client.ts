// The typed API client: openapi-fetch over the types generated from Keyward's OpenAPI document.
import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./generated/api";

export type { components, paths } from "./generated/api";
export type KeywardClient = Client<paths>;

export interface KeywardClientOptions {
  /** Keyward's origin, e.g. `https://keys.example.com`. */
  baseUrl: string;
  /** An API key (`pk_live_…`/`pk_test_…`) or a service credential (`ksvc_…`), sent as Bearer. */
  apiKey?: string;
  /** A fetch of your own (tests, proxies); default: the global fetch. */
  fetch?: typeof globalThis.fetch;
}

/**
 * A client for every route of `/api/v1`, typed from the OpenAPI document:
 * `const { data, error } = await client.GET("/api/v1/keys", { params: { query: { limit: 10 } } })`.
 */
export function createKeywardClient(opts: KeywardClientOptions): KeywardClient {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/+$/, ""),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const apiKey = opts.apiKey;
  if (apiKey) {
    client.use({
      onRequest({ request }) {
        if (!request.headers.has("authorization")) {
          request.headers.set("authorization", `Bearer ${apiKey}`);
        }
        return request;
      },
    });
  }
  return client;
}
