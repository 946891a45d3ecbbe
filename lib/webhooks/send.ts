// One webhook attempt: a POST over node:http/https that cannot be pointed anywhere the URL
// policy refuses. The name is resolved (through the injectable Resolver) and every address
// checked again now, at delivery time; the socket is then opened to the checked address itself
// (the injectable Connect step), with the URL's host name as Host header and TLS SNI and
// certificate name, so a name that answers differently a moment later (DNS rebinding) changes
// nothing. Redirects are never followed (a 3xx is a failure), the whole attempt is cut at the
// timeout, and at most 64 KiB of the answer is read before the socket is destroyed.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { config } from "@/lib/config";
import { checkWebhookUrl, type ResolvedAddress, type Resolver } from "./url-policy";

export interface ConnectTarget {
  /** The checked IP address: the only place a socket may go. */
  address: string;
  family: 4 | 6;
  port: number;
  tls: boolean;
  /** The URL's host name: TLS SNI and the certificate's expected name (not for IP literals). */
  servername?: string;
}
export type Connect = (target: ConnectTarget) => net.Socket;

/** Opens a TCP (or TLS) connection to exactly the checked address. */
export const defaultConnect: Connect = (t) =>
  t.tls
    ? tls.connect({
        host: t.address,
        port: t.port,
        servername: t.servername,
        ALPNProtocols: ["http/1.1"],
      })
    : net.connect({ host: t.address, port: t.port });

export interface SendOptions {
  resolve?: Resolver;
  connect?: Connect;
  allowPrivate?: boolean;
  /** Default KEYWARD_WEBHOOK_TIMEOUT_MS (10 s): connecting, sending and reading the answer. */
  timeoutMs?: number;
}

export interface SendResult {
  /** A 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  /** Why it failed, for the delivery log (no secrets: the URL is not repeated). */
  error: string | null;
  /** The first 1 KiB of the answer, for the delivery log. */
  responseBody: string | null;
}

export const MAX_RESPONSE_BYTES = 64 * 1024;
const LOGGED_BODY_BYTES = 1024;

export async function sendWebhook(
  rawUrl: string,
  request: { body: string; headers: Record<string, string> },
  options: SendOptions = {},
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeoutMs = options.timeoutMs ?? config().KEYWARD_WEBHOOK_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);

  let check: Awaited<ReturnType<typeof checkWebhookUrl>>;
  try {
    check = await Promise.race([
      checkWebhookUrl(rawUrl, { resolve: options.resolve, allowPrivate: options.allowPrivate }),
      new Promise<never>((_, reject) =>
        deadline.addEventListener("abort", () => reject(new Error("timed out resolving"))),
      ),
    ]);
  } catch (e) {
    return failure(null, elapsed(), (e as Error).message);
  }
  if (!check.ok) return failure(null, elapsed(), `refused: ${check.message}`);

  const { url } = check;
  const target = pickAddress(check.addresses);
  const secure = url.protocol === "https:";
  const hostIsIp = net.isIP(url.hostname.replace(/^\[|\]$/g, "")) !== 0;
  const connect = options.connect ?? defaultConnect;

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const requestOptions: http.RequestOptions = {
      method: "POST",
      host: url.hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      // No agent: with createConnection, node:http makes this one request on our socket.
      headers: {
        ...request.headers,
        "content-length": String(Buffer.byteLength(request.body)),
        "user-agent": "Keyward-Webhooks/1",
        connection: "close",
      },
      createConnection: () =>
        connect({
          address: target.address,
          family: target.family,
          port: Number(url.port || (secure ? 443 : 80)),
          tls: secure,
          servername: secure && !hostIsIp ? url.hostname : undefined,
        }),
    };
    const req = (secure ? https : http).request(requestOptions, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let read = 0;
      let kept = 0;
      const finish = (cut: boolean) => {
        const body = Buffer.concat(chunks).subarray(0, LOGGED_BODY_BYTES).toString("utf8");
        const ok = status >= 200 && status < 300;
        let error: string | null = null;
        if (status >= 300 && status < 400) error = `redirect (${status}) not followed`;
        else if (!ok) error = `HTTP ${status}`;
        done({ ok, statusCode: status, durationMs: elapsed(), error, responseBody: body });
        if (cut) req.destroy();
      };
      res.on("data", (chunk: Buffer) => {
        if (settled) return;
        read += chunk.length;
        if (kept < LOGGED_BODY_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
        if (read >= MAX_RESPONSE_BYTES) finish(true);
      });
      res.on("end", () => finish(false));
      res.on("error", () => finish(true));
    });
    req.on("error", (e) => done(failure(null, elapsed(), describeError(e))));
    const timer = setTimeout(
      () => {
        done(failure(null, elapsed(), `timed out after ${timeoutMs} ms`));
        req.destroy();
      },
      Math.max(1, timeoutMs - elapsed()),
    );
    req.end(request.body);
  });
}

/** IPv4 first (the common case), else the first address; all of them were checked. */
function pickAddress(addresses: ResolvedAddress[]): ResolvedAddress {
  return addresses.find((a) => a.family === 4) ?? (addresses[0] as ResolvedAddress);
}

function failure(statusCode: number | null, durationMs: number, error: string): SendResult {
  return { ok: false, statusCode, durationMs, error, responseBody: null };
}

function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message}` : String(err.message ?? e);
}
