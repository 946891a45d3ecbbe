// Webhook test helpers: a real HTTP receiver on 127.0.0.1 that records what it gets, and
// fixtures (an organization with an endpoint, events through the real outbox writer).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Tx } from "@/lib/db";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { enqueueWebhookEvent } from "@/lib/services/webhooks/enqueue";
import { WEBHOOK_EVENT_TYPES } from "@/lib/services/webhooks/events";
import { generateWebhookSecret, sealSecret } from "@/lib/webhooks/secrets";

export interface Received {
  n: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** performance.now() at receipt. */
  at: number;
}

/** What the receiver does with its n-th request (from 1): answer, or hang/stream (handled). */
export type Behaviour = (
  r: Received,
  res: http.ServerResponse,
) => undefined | { status: number; body?: string; headers?: Record<string, string> };

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  behave: Behaviour;
  /** Waits until `count` requests arrived (or the timeout passes: then throws). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(
  behave: Behaviour = () => ({ status: 200 }),
): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = {
        n: received.length + 1,
        path: req.url ?? "",
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(", ") : (v ?? ""),
          ]),
        ),
        body: Buffer.concat(chunks).toString("utf8"),
        at: performance.now(),
      };
      received.push(r);
      for (const w of waiters.splice(0)) w();
      const answer = receiver.behave(r, res);
      if (answer) {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body ?? "");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    behave,
    async waitFor(count, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > until) {
          throw new Error(
            `receiver: ${received.length} of ${count} requests after ${timeoutMs} ms`,
          );
        }
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

let n = 0;

/** An organization with one endpoint subscribed to every event type; returns its secret too. */
export async function orgWithEndpoint(db: Tx, url: string) {
  n++;
  const org = await organizationRepository.create(db, {
    name: `Webhooks ${n} ${Date.now()}`,
    email: `wh${n}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`,
  });
  const secret = generateWebhookSecret();
  const endpoint = await db.webhookEndpoint.create({
    data: {
      organizationId: org.id,
      url,
      eventTypes: [...WEBHOOK_EVENT_TYPES],
      secretSealed: sealSecret(secret),
    },
  });
  return { org, endpoint, secret };
}

/** `count` key.created events through the real outbox writer (one insert round each). */
export async function enqueueMany(
  db: Tx,
  organizationId: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = await enqueueWebhookEvent(db, {
      organizationId,
      type: "key.created",
      data: { key: { id: `key_${i}`, name: `key ${i}` } },
    });
    if (id) ids.push(id);
  }
  return ids;
}
