// Adapter for a plain node:http server (the lean path for verify): IncomingMessage -> runRoute.
import type { IncomingMessage, ServerResponse } from "node:http";
import { clientAddress } from "@/lib/auth/client-address";
import { getDb } from "@/lib/db";
import { KeywardError } from "@/lib/errors";
import { type AnyRoute, type RunDeps, runRoute } from "./route";
import type { HttpRequest, HttpResult } from "./types";

function readLimited(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        req.resume();
        reject(new KeywardError("PAYLOAD_TOO_LARGE", `The body may be at most ${limit} bytes.`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => !failed && resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", (e) => !failed && reject(e));
  });
}

export function fromNodeRequest(req: IncomingMessage): HttpRequest {
  // Node drops repeated Authorization headers silently; rawHeaders still shows them.
  let authCount = 0;
  if (req.headers.authorization !== undefined) {
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() === "authorization") authCount++;
    }
  }
  const headers = {
    get(name: string): string | null {
      const n = name.toLowerCase();
      if (n === "authorization" && authCount > 1) return "duplicate, duplicate";
      const v = req.headers[n];
      if (v === undefined) return null;
      return Array.isArray(v) ? v.join(", ") : v;
    },
  };
  if (!req.headers["x-forwarded-for"] && req.socket.remoteAddress) {
    req.headers["x-forwarded-for"] = req.socket.remoteAddress;
  }
  return {
    method: req.method ?? "GET",
    url: new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`),
    headers,
    ip: clientAddress(headers),
    readBody: (limit) => readLimited(req, limit),
  };
}

export function sendNode(res: ServerResponse, result: HttpResult): void {
  const body =
    result.body === null || result.body === undefined || result.status === 204
      ? undefined
      : JSON.stringify(result.body);
  // The result is this response's own: its headers are written as they are (no copy).
  const headers: Record<string, string | number> = result.headers;
  if (body !== undefined) headers["content-length"] = Buffer.byteLength(body);
  res.writeHead(result.status, headers);
  res.end(body);
}

/** Serves one route from a node:http handler: `await handleNode(verifyRoute, req, res)`. */
export async function handleNode(
  route: AnyRoute,
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string> = {},
  deps: RunDeps = { db: getDb },
): Promise<void> {
  sendNode(res, await runRoute(route, fromNodeRequest(req), params, deps));
}
