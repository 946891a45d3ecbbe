// Bodies are bounded everywhere (PRODUCT.md section 8): /api/auth/* and server actions refuse a
// declared body over 64 KiB with 413 and a streamed (chunked) one with 411, before reading it, and
// the server's memory stays flat while a client tries to send 500 MB. The bodies are generated on
// the fly from one reused buffer, so the test holds no more than a chunk either.
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root, startServer, type TestServer } from "@/tests/helpers/server";

const MB = 1024 * 1024;
const HUGE = 500 * MB;
const CHUNK = Buffer.alloc(256 * 1024, "a");

/** The server process's resident memory, from /proc (kB -> bytes). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error("no VmRSS");
  return Number(m[1]) * 1024;
}

interface Sent {
  status: number | null;
  sent: number;
  ms: number;
}

/**
 * POSTs up to `total` bytes over a raw socket, generated as it goes; stops as soon as the server
 * answers. A raw socket, because a server that refuses and closes mid-upload resets the
 * connection, and http.request would then report the reset rather than the answer it read.
 */
function streamPost(
  server: TestServer,
  urlPath: string,
  headers: Record<string, string>,
  total: number,
  declare: boolean,
  prefix = "",
): Promise<Sent> {
  return new Promise((resolve) => {
    const started = performance.now();
    let sent = 0;
    let received = "";
    let finished = false;
    const status = () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      return m ? Number(m[1]) : null;
    };
    const socket = net.connect(server.port, "127.0.0.1");
    const done = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve({ status: status(), sent, ms: performance.now() - started });
    };
    socket.on("data", (d) => {
      received += d.toString("latin1");
      if (status() !== null && received.includes("\r\n\r\n")) done();
    });
    socket.on("error", () => setTimeout(done, 200));
    socket.on("close", () => setTimeout(done, 200));
    const lines = [`POST ${urlPath} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    lines.push(declare ? `Content-Length: ${total}` : "Transfer-Encoding: chunked");
    const frame = (b: Buffer | string) =>
      declare ? [b] : [`${Buffer.byteLength(b).toString(16)}\r\n`, b, "\r\n"];
    socket.on("connect", () => {
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (prefix) {
        for (const part of frame(prefix)) socket.write(part);
        sent += Buffer.byteLength(prefix);
      }
      const pump = () => {
        while (!finished && received === "" && !socket.destroyed && sent < total) {
          const n = Math.min(CHUNK.length, total - sent);
          sent += n;
          let ok = true;
          for (const part of frame(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
            ok = socket.write(part);
          }
          if (!ok) {
            socket.once("drain", pump);
            return;
          }
        }
        if (sent >= total && !declare && !socket.destroyed) socket.write("0\r\n\r\n");
      };
      pump();
    });
  });
}

function actionId(name: string): string {
  const manifest = JSON.parse(
    readFileSync(path.join(root, ".next/server/server-reference-manifest.json"), "utf8"),
  ) as { node: Record<string, { exportedName?: string; filename?: string }> };
  const hit = Object.entries(manifest.node).find(
    ([, v]) => v.exportedName === name && v.filename === "app/(auth)/actions.ts",
  );
  if (!hit) throw new Error(`no server action ${name} in the build`);
  return hit[0];
}

describe("bodies over 64 KiB on /api/auth/* and server actions", () => {
  let server: TestServer;
  let pid: number;
  let before = 0;

  beforeAll(async () => {
    server = await startServer({ readyTimeoutMs: 240_000 });
    pid = server.proc.pid as number;
    // Warm up what the cases below load, so RSS is compared after first use.
    await fetch(`${server.url}/api/auth/csrf`);
    await fetch(`${server.url}/login`);
    for (let i = 0; i < 3; i++) {
      await streamPost(
        server,
        "/api/auth/callback/credentials",
        { "content-type": "application/x-www-form-urlencoded" },
        8 * MB,
        true,
      );
    }
    before = rss(pid);
  }, 400_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("a small sign-in POST to /api/auth/callback/credentials is handled as before", async () => {
    const r = await fetch(`${server.url}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=a%40example.test&password=wrong&csrfToken=x",
      redirect: "manual",
    });
    expect(r.status).not.toBe(413);
    expect(r.status).toBeLessThan(500);
  });

  it("500 MB declared in Content-Length: 413 before the body is read", async () => {
    const r = await streamPost(
      server,
      "/api/auth/callback/credentials",
      { "content-type": "application/x-www-form-urlencoded" },
      HUGE,
      true,
    );
    expect(r.status).toBe(413);
    expect(r.sent).toBeLessThan(64 * MB);
  });

  it("500 MB streamed chunked (no length): 411 before the body is read", async () => {
    const r = await streamPost(
      server,
      "/api/auth/callback/credentials",
      { "content-type": "application/x-www-form-urlencoded" },
      HUGE,
      false,
    );
    expect(r.status).toBe(411);
    expect(r.sent).toBeLessThan(64 * MB);
  });

  it.each([
    ["signInAction", "/login"],
    ["signUpAction", "/signup"],
  ])("server action %s with a 500 MB body: refused before Next reads it", async (name, page) => {
    const boundary = "----keywardbodylimit";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n`;
    for (const declare of [true, false]) {
      const r = await streamPost(
        server,
        page,
        {
          "next-action": actionId(name),
          "content-type": `multipart/form-data; boundary=${boundary}`,
          accept: "text/x-component",
          origin: server.url,
        },
        HUGE,
        declare,
        head,
      );
      // Over the limit: 413. Streamed without a length (browsers always send one for a form):
      // 411, since the length cannot be checked before reading.
      expect(r.status).toBe(declare ? 413 : 411);
      expect(r.sent).toBeLessThan(64 * MB);
    }
  });

  it("a server action within the limit still reaches Next (a form error, not a refusal)", async () => {
    const boundary = "----keywardsmall";
    const body =
      `--${boundary}\r\nContent-Disposition: form-data; name="1_email"\r\n\r\nnot-an-email\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"\r\n\r\n[{"ok":false},"$K1"]\r\n--${boundary}--\r\n`;
    const r = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: {
        "next-action": actionId("signInAction"),
        "content-type": `multipart/form-data; boundary=${boundary}`,
        accept: "text/x-component",
        origin: server.url,
      },
      body,
    });
    expect([411, 413]).not.toContain(r.status);
    expect(r.status).toBeLessThan(500);
  });

  it("the server's resident memory stayed flat, and it still answers", async () => {
    const after = rss(pid);
    expect(after - before).toBeLessThan(64 * MB);
    // Health may report a slow moment on a loaded machine; it must come back to ok.
    const deadline = Date.now() + 15_000;
    let h = await fetch(`${server.url}/api/v1/health`);
    while (h.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      h = await fetch(`${server.url}/api/v1/health`);
    }
    expect(h.status).toBe(200);
  });
});
