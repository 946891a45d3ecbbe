// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// The route core served by a plain node:http server (the lean path the custom server will use
// for verify), on a PGlite database: same answers as under Next.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleNode } from "@/lib/http/node";
import { meRoute, verifyRoute } from "@/lib/http/routes";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { createKey } from "@/lib/services/keys";
import { createTestDatabase, type TestDatabase } from "@/tests/helpers/db";

let t: TestDatabase;
let server: http.Server;
let key: string;

beforeAll(async () => {
  t = await createTestDatabase("pglite");
  const org = await organizationRepository.create(t.prisma, {
    name: "Node",
    email: "node@example.test",
  });
  key = (
    await createKey(
      t.prisma,
      { organizationId: org.id, name: "n", environment: "live" },
      { type: "system" },
    )
  ).key;
  const deps = { db: async () => t.prisma };
  server = http.createServer((req, res) => {
    const route = req.url?.startsWith("/api/v1/me") ? meRoute : verifyRoute;
    void handleNode(route, req, res, {}, deps);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await t?.close();
});

// Raw HTTP/1.1 over a socket, so repeated headers reach the server exactly as written.
function raw(
  path: string,
  headers: [string, string][],
  body?: string,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const { port } = server.address() as AddressInfo;
    const socket = net.connect(port, "127.0.0.1");
    const lines = [
      `${body === undefined ? "GET" : "POST"} ${path} HTTP/1.1`,
      "host: localhost",
      "connection: close",
    ];
    for (const [k, v] of headers) lines.push(`${k}: ${v}`);
    if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
    socket.write(`${lines.join("\r\n")}\r\n\r\n${body ?? ""}`);
    let data = "";
    socket.on("data", (c) => (data += c));
    socket.on("error", reject);
    socket.on("end", () => {
      const [head, ...rest] = data.split("\r\n\r\n");
      const status = Number(head!.split(" ")[1]);
      const text = rest.join("\r\n\r\n");
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {}
      resolve({ status, body: parsed });
    });
  });
}

describe("node:http adapter", () => {
  it("verifies a key", async () => {
    const r = await raw("/verify", [["content-type", "application/json"]], JSON.stringify({ key }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ valid: true, code: "VALID" });
  });

  it("authenticates, and refuses two Authorization headers (node would keep only the first)", async () => {
    expect((await raw("/api/v1/me", [["authorization", `Bearer ${key}`]])).status).toBe(200);
    const twice = await raw("/api/v1/me", [
      ["authorization", `Bearer ${key}`],
      ["authorization", "Bearer other"],
    ]);
    expect(twice.status).toBe(400);
    expect(twice.body.code).toBe("BAD_REQUEST");
  });

  it("answers 413 past the body limit and 400 for bad JSON", async () => {
    const big = await raw(
      "/verify",
      [["content-type", "application/json"]],
      JSON.stringify({ key: "x".repeat(70_000) }),
    );
    expect(big.status).toBe(413);
    const bad = await raw("/verify", [["content-type", "application/json"]], "{");
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("INVALID_JSON");
  });
});
