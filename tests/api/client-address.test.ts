// Without a trusted proxy in front (the default), the client's address is the
// socket's peer: a client cannot dodge the per-address limit on failed verifies
// by sending its own X-Forwarded-For or X-Real-IP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "@/lib/keys";
import { startServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { KEYWARD_TRUST_PROXY: undefined } });
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

describe("client address", () => {
  it("ignores client-sent forwarding headers when no proxy is trusted", async () => {
    let limitedAt = -1;
    for (let i = 0; i < 150 && limitedAt < 0; i++) {
      const res = await fetch(`${server.url}/api/v1/keys/verify`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-forwarded-for": `198.51.100.${i % 250}`,
          "x-real-ip": `192.0.2.${i % 250}`,
        },
        body: JSON.stringify({ key: generateKey("live").key }),
      });
      await res.arrayBuffer();
      if (res.status === 429) limitedAt = i;
    }
    // Every attempt counted against the one real address (127.0.0.1).
    expect(limitedAt).toBeGreaterThan(0);
    expect(limitedAt).toBeLessThanOrEqual(100);
  });
});
