// One attempt (lib/webhooks/send.ts) against a real receiver on 127.0.0.1. The connect step is
// injected: it fails the test if it is ever asked for anything but loopback, so nothing here can
// reach another address, and the SSRF cases prove no connection is even attempted.

import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWebhookSecret } from "@/lib/webhooks/secrets";
import { type Connect, type ConnectTarget, defaultConnect, sendWebhook } from "@/lib/webhooks/send";
import { signWebhook } from "@/lib/webhooks/sign";
import type { Resolver } from "@/lib/webhooks/url-policy";
import { type Receiver, startReceiver } from "./support";

const attempted: ConnectTarget[] = [];
const loopbackOnly: Connect = (target) => {
  attempted.push(target);
  if (target.address !== "127.0.0.1" && target.address !== "::1") {
    throw new Error(`connect attempted to ${target.address}: the test forbids it`);
  }
  return defaultConnect(target);
};

const message = {
  eventId: "0b9a3a1e-2f57-4c1e-9d3e-0c8f6f7f2a11",
  type: "key.created",
  createdAt: new Date("2026-12-01T12:00:00.000Z"),
  data: { key: { id: "k1" } },
};

describe("sendWebhook", () => {
  let receiver: Receiver;
  const secret = generateWebhookSecret();
  const request = () => signWebhook(message, [secret]);
  const send = (path: string, extra: Parameters<typeof sendWebhook>[2] = {}) =>
    sendWebhook(`${receiver.url}${path}`, request(), {
      allowPrivate: true,
      connect: loopbackOnly,
      timeoutMs: 5_000,
      ...extra,
    });

  beforeAll(async () => {
    receiver = await startReceiver((r, res) => {
      if (r.path === "/ok") return { status: 204 };
      if (r.path === "/redirect")
        return { status: 307, headers: { location: "/ok-after-redirect" } };
      if (r.path === "/hang") return undefined; // never answers
      if (r.path === "/huge") {
        // An endless answer: only a sender that stops reading (and closes) ends it.
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const chunk = Buffer.alloc(16 * 1024, 120);
        let sent = 0;
        const pump = () => {
          while (!res.destroyed && sent < 512 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              res.once("drain", pump);
              return;
            }
          }
        };
        res.on("close", () => hugeSentBytes.push(sent));
        pump();
        return undefined;
      }
      return { status: 500, body: "no" };
    });
  });
  afterAll(() => receiver.close());
  const hugeSentBytes: number[] = [];

  it("POSTs the signed body; the standardwebhooks library verifies it", async () => {
    const r = await send("/ok");
    expect(r).toMatchObject({ ok: true, statusCode: 204, error: null });
    const got = receiver.received.find((x) => x.path === "/ok");
    expect(got).toBeDefined();
    const payload = new Webhook(secret).verify(got?.body ?? "", got?.headers ?? {});
    expect(payload).toEqual({
      type: "key.created",
      timestamp: "2026-12-01T12:00:00.000Z",
      data: { key: { id: "k1" } },
    });
    expect(got?.headers["webhook-id"]).toBe("msg_0b9a3a1e2f574c1e9d3e0c8f6f7f2a11");
    expect(got?.headers.host).toBe(`127.0.0.1:${receiver.port}`);
  });

  it("does not follow a redirect: a 3xx is a failure", async () => {
    const r = await send("/redirect");
    expect(r.ok).toBe(false);
    expect(r.statusCode).toBe(307);
    expect(r.error).toMatch(/redirect/);
    expect(receiver.received.some((x) => x.path === "/ok-after-redirect")).toBe(false);
  });

  it("a non-2xx answer is a failure with its status and the start of its body", async () => {
    const r = await send("/fail");
    expect(r).toMatchObject({ ok: false, statusCode: 500, error: "HTTP 500", responseBody: "no" });
  });

  it("cuts a receiver that never answers at the timeout", async () => {
    const before = process.cpuUsage();
    const r = await send("/hang", { timeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(r.statusCode).toBeNull();
    expect(r.error).toMatch(/timed out after 300 ms/);
    // Waiting costs no CPU (not a busy loop); the wall time is not asserted under load.
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(2_000);
  });

  it("reads at most 64 KiB of an answer, then closes the connection", async () => {
    const r = await send("/huge", { timeoutMs: 30_000 });
    expect(r).toMatchObject({ ok: true, statusCode: 200 });
    expect(r.responseBody?.length).toBe(1024);
    // The receiver's endless answer ended because the sender closed the socket: far less than
    // the 512 MiB it would have written (kernel buffers hold a few MiB at most).
    await receiver.waitFor(0);
    const until = Date.now() + 10_000;
    while (hugeSentBytes.length === 0 && Date.now() < until)
      await new Promise((s) => setTimeout(s, 50));
    expect(hugeSentBytes[0]).toBeLessThan(64 * 1024 * 1024);
  });

  it("refuses private and metadata addresses at delivery time without connecting", async () => {
    const count = attempted.length;
    for (const answer of ["10.0.0.1", "169.254.169.254", "::ffff:10.0.0.1", "fd00:ec2::254"]) {
      const resolve: Resolver = async () => [
        { address: answer, family: answer.includes(":") ? 6 : 4 },
      ];
      const r = await sendWebhook("https://hooks.example.test/in", request(), {
        resolve,
        allowPrivate: true,
        connect: loopbackOnly,
      });
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/^refused/);
    }
    // A name answering a public and a private address is refused as a whole.
    const mixed: Resolver = async () => [
      { address: "93.184.215.14", family: 4 },
      { address: "10.0.0.1", family: 4 },
    ];
    const r = await sendWebhook("https://hooks.example.test/in", request(), {
      resolve: mixed,
      connect: loopbackOnly,
    });
    expect(r.error).toMatch(/^refused/);
    // Loopback without the flag: refused too.
    const local: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    const r2 = await sendWebhook(`http://receiver.test:${receiver.port}/ok`, request(), {
      resolve: local,
      allowPrivate: false,
      connect: loopbackOnly,
    });
    expect(r2.error).toMatch(/^refused/);
    expect(attempted.length).toBe(count);
  });

  it("connects to the address it checked, with the URL's name as Host (no second lookup)", async () => {
    let lookups = 0;
    // A rebinding resolver: loopback the first time, the metadata address afterwards.
    const rebinding: Resolver = async () => {
      lookups++;
      return [{ address: lookups === 1 ? "127.0.0.1" : "169.254.169.254", family: 4 }];
    };
    const before = attempted.length;
    const r = await sendWebhook(`http://receiver.test:${receiver.port}/ok`, request(), {
      resolve: rebinding,
      allowPrivate: true,
      connect: loopbackOnly,
    });
    expect(r.ok).toBe(true);
    expect(lookups).toBe(1);
    expect(attempted.slice(before).map((a) => a.address)).toEqual(["127.0.0.1"]);
    const last = receiver.received.at(-1);
    expect(last?.headers.host).toBe(`receiver.test:${receiver.port}`);
  });
});
