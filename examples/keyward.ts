// The one Keyward instance each example shares: configured from the environment.
//   KEYWARD_URL                 Keyward's origin, e.g. http://127.0.0.1:3000
//   KEYWARD_SERVICE_CREDENTIAL  ksvc_… from `npm run keyward -- service:create --name my-api`
//   KEYWARD_ON_ERROR            "open" (default) or "closed"
//   KEYWARD_CACHE_TTL_MS        0 (default) up to 5000
//   KEYWARD_TIMEOUT_MS          verify's timeout, 2000 (default)
import { createKeyward } from "@keyward/sdk";

export function keywardFromEnv(env: NodeJS.ProcessEnv = process.env) {
  return createKeyward({
    baseUrl: env.KEYWARD_URL ?? "http://127.0.0.1:3000",
    serviceCredential: env.KEYWARD_SERVICE_CREDENTIAL,
    onError: env.KEYWARD_ON_ERROR === "closed" ? "closed" : "open",
    cacheTtlMs: Number(env.KEYWARD_CACHE_TTL_MS ?? 0),
    flushIntervalMs: Number(env.KEYWARD_FLUSH_INTERVAL_MS ?? 1000),
    timeoutMs: Number(env.KEYWARD_TIMEOUT_MS ?? 2000),
  });
}
