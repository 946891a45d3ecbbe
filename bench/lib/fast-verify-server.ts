// Bench-only experiment (issue 18), not product code: how close can verify's request thread get to
// the floor (bench/lib/floor-server.mjs) when the generic route core is bypassed? One node:http
// server answering POST /api/v1/keys/verify only, doing the lean lane's work per request through
// the product's own functions (verifyKey, toVerifyResult, rateLimitHeaders, meter, observeRequest,
// newRequestId, errorToProblem), without runRoute's general machinery: no URL object, no header
// closures, zod only when the hand check below does not accept the body, no output parse
// (toVerifyResult's typed result is what leaves), headers as one flat array.
//
//   PORT=3103 KEYWARD_DATA_DIR=<folder> node --import tsx bench/lib/fast-verify-server.ts
//   PORT=3103 DATABASE_URL=... REDIS_URL=... node --import tsx bench/lib/fast-verify-server.ts
//
// Variants, for measuring what one piece costs: FAST_VERIFY_SCHEMA=always (every body through
// VerifyBodySchema), FAST_VERIFY_METRICS=off (no observeRequest).
import http from "node:http";
import type { z } from "zod";
import { clientAddress } from "@/lib/auth/client-address";
import { getDatabase } from "@/lib/db";
import { KeywardError } from "@/lib/errors";
import { outcomeError, rejectKeyInUrl } from "@/lib/http/auth";
import { meter } from "@/lib/http/metering";
import { errorToProblem } from "@/lib/http/problem";
import { rateLimitHeaders } from "@/lib/http/ratelimit-headers";
import { DEFAULT_BODY_LIMIT, newRequestId } from "@/lib/http/route";
import type { HttpResult } from "@/lib/http/types";
import { isShuttingDown, onShutdown, shutdown } from "@/lib/lifecycle";
import { observeRequest } from "@/lib/metrics/registry";
import { getUsageRecorder } from "@/lib/services/usage-recorder";
import { toVerifyResult, verifyKey } from "@/lib/services/verify";
import { toFieldIssues } from "@/lib/validation/issues";
import { VerifyBodySchema } from "@/lib/validation/keys";
import { MAX_SCOPES, VERIFY_COST_MAX } from "@/lib/validation/rules";
import { isCleanText } from "@/lib/validation/text";

type VerifyBody = z.output<typeof VerifyBodySchema>;

const PATH = "/api/v1/keys/verify";
const ROUTE = { path: PATH, method: "POST" } as const;
const LIMIT = DEFAULT_BODY_LIMIT;
const port = Number.parseInt(process.env.PORT || "3103", 10);
const schemaAlways = process.env.FAST_VERIFY_SCHEMA === "always";
const metricsOn = process.env.FAST_VERIFY_METRICS !== "off";

// ---- the body: a hand check no wider than VerifyBodySchema, zod for everything else ----------

/**
 * The common body, accepted without zod: an object with only the schema's fields, `key` a string
 * of at most 512, `scopes` at most MAX_SCOPES strings of 1-64 clean characters, `cost` an integer
 * 0..VERIFY_COST_MAX, `ip` at most 64 clean characters with nothing for `.trim()` to remove (so
 * the schema's trim would return it unchanged). Anything else (null fields, extra fields, a
 * padded ip, ...) returns undefined and goes through the schema, which answers or strips.
 */
function handCheck(v: unknown): VerifyBody | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (k !== "key" && k !== "ip" && k !== "cost" && k !== "scopes") return undefined;
  }
  const { key, ip, cost, scopes } = o;
  if (typeof key !== "string" || key.length > 512) return undefined;
  if (ip !== undefined) {
    if (typeof ip !== "string" || ip.length > 64 || !isCleanText(ip) || ip.trim() !== ip) {
      return undefined;
    }
  }
  if (cost !== undefined) {
    if (typeof cost !== "number" || !Number.isInteger(cost) || cost < 0 || cost > VERIFY_COST_MAX) {
      return undefined;
    }
  }
  if (scopes !== undefined) {
    if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES) return undefined;
    for (const s of scopes) {
      if (typeof s !== "string" || s.length < 1 || s.length > 64 || !isCleanText(s)) {
        return undefined;
      }
    }
  }
  return v as VerifyBody;
}

function parseBody(value: unknown): VerifyBody {
  if (!schemaAlways) {
    const body = handCheck(value);
    if (body) return body;
  }
  // The route core's parseWith, for the same 400.
  const r = VerifyBodySchema.safeParse(value);
  if (r.success) return r.data;
  throw new KeywardError("VALIDATION_FAILED", "The request body has invalid fields; see issues.", {
    issues: toFieldIssues(r.error),
  });
}

// The claim "no wider than the schema", checked at start: every sample the hand check accepts,
// the schema accepts with the same output.
function selfCheck(): void {
  const long = (n: number) => "a".repeat(n);
  const samples: unknown[] = [
    { key: "pk_live_x" },
    { key: long(512) },
    { key: long(513) },
    { key: 1 },
    {},
    null,
    [],
    "x",
    { key: "k", extra: 1 },
    { key: "k", ip: "203.0.113.7" },
    { key: "k", ip: " 203.0.113.7 " },
    { key: "k", ip: "a\u0000" },
    { key: "k", ip: long(64) },
    { key: "k", ip: long(65) },
    { key: "k", ip: "\ud800" },
    { key: "k", ip: null },
    { key: "k", cost: 0 },
    { key: "k", cost: -0 },
    { key: "k", cost: VERIFY_COST_MAX },
    { key: "k", cost: VERIFY_COST_MAX + 1 },
    { key: "k", cost: 1.5 },
    { key: "k", cost: -1 },
    { key: "k", cost: "1" },
    { key: "k", scopes: [] },
    { key: "k", scopes: ["read"] },
    { key: "k", scopes: [""] },
    { key: "k", scopes: [long(64)] },
    { key: "k", scopes: [long(65)] },
    { key: "k", scopes: [" read "] },
    { key: "k", scopes: ["a\tb"] },
    { key: "k", scopes: Array(MAX_SCOPES).fill("s") },
    { key: "k", scopes: Array(MAX_SCOPES + 1).fill("s") },
    { key: "k", scopes: "read" },
    { key: "k", scopes: [1] },
    JSON.parse('{"key":"k","__proto__":{"x":1}}'),
  ];
  for (const s of samples) {
    const hand = handCheck(s);
    if (hand === undefined) continue;
    const r = VerifyBodySchema.safeParse(s);
    if (!r.success || JSON.stringify(r.data) !== JSON.stringify(hand)) {
      throw new Error(`hand check wider than VerifyBodySchema on ${JSON.stringify(s)}`);
    }
  }
}
selfCheck();

// ---- the response -------------------------------------------------------------------------------

const JSON_TYPE = "application/json";
// What runRoute adds to every answer, after the handler's headers and the result's content-type.
const observed = { status: 0, body: null as unknown };

function send(res: http.ServerResponse, status: number, headers: string[], body: string): void {
  headers.push("content-length", String(Buffer.byteLength(body)));
  if (isShuttingDown()) headers.push("connection", "close");
  res.writeHead(status, headers);
  res.end(body);
}

function sendProblem(
  res: http.ServerResponse,
  error: unknown,
  requestId: string,
  started: number,
  extraHeaders: Record<string, string> = {},
): void {
  const result: HttpResult = errorToProblem(error, requestId, PATH);
  const headers: string[] = [];
  for (const k in extraHeaders) headers.push(k, extraHeaders[k]!);
  for (const k in result.headers) headers.push(k, String(result.headers[k]));
  headers.push(
    "x-request-id",
    requestId,
    "cache-control",
    "no-store",
    "x-content-type-options",
    "nosniff",
  );
  if (metricsOn) observeRequest(ROUTE, result, started);
  send(res, result.status, headers, JSON.stringify(result.body));
}

// ---- one request ---------------------------------------------------------------------------------

// Answers with a key (each must be metered once) and events the recorder kept, printed at
// shutdown: the bench compares them with the usage rows (requests a client sent but cut before
// the server read them are in the client's count only).
let keyed = 0;
let metered = 0;

type Db = Awaited<ReturnType<typeof getDatabase>>["prisma"];

// The lean lane's client address without a trusted proxy: the socket's peer (server.ts sets
// X-Forwarded-For from it; clientAddress reads it back). One reused header source.
let peer = "";
const peerHeaders = { get: (n: string) => (n === "x-forwarded-for" ? peer : null) };

async function serve(
  db: Db,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  text: string,
  started: number,
  requestId: string,
): Promise<void> {
  let body: VerifyBody;
  try {
    if (text.trim() === "")
      throw new KeywardError("BAD_REQUEST", "This request needs a JSON body.");
    const ct = req.headers["content-type"];
    if (ct !== JSON_TYPE) {
      // The route core's rule, for any other spelling.
      const type = (ct ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== JSON_TYPE && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
        throw new KeywardError(
          "UNSUPPORTED_MEDIA_TYPE",
          "Send the body as JSON with Content-Type: application/json.",
        );
      }
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new KeywardError("INVALID_JSON", "The body is not valid JSON.");
    }
    body = parseBody(value);
  } catch (e) {
    return sendProblem(res, e, requestId, started);
  }

  peer = req.socket.remoteAddress ?? "unknown";
  const ip = clientAddress(peerHeaders);
  const now = Date.now();
  let outcome: Awaited<ReturnType<typeof verifyKey>>;
  try {
    outcome = await verifyKey(db, {
      key: body.key,
      scopes: body.scopes,
      endpoint: PATH,
      ip,
      cost: body.cost,
      clientIp: body.ip,
    });
  } catch (e) {
    return sendProblem(res, e, requestId, started);
  }
  if (outcome.addressLimit && !outcome.addressLimit.allowed) {
    // Not on the measured path: the route's 429, through the same functions.
    const h: Record<string, string> = {};
    const error = outcomeError(outcome, h, now);
    return sendProblem(res, error, requestId, started, h);
  }
  const result = toVerifyResult(outcome, now);
  const headers: string[] = [];
  if (outcome.ratelimit) {
    const rl = rateLimitHeaders(outcome.ratelimit, now);
    for (const k in rl) headers.push(k, rl[k]!);
  }
  headers.push(
    "content-type",
    JSON_TYPE,
    "x-request-id",
    requestId,
    "cache-control",
    "no-store",
    "x-content-type-options",
    "nosniff",
  );
  const json = JSON.stringify(result);
  if (metricsOn) {
    observed.status = 200;
    observed.body = result;
    observeRequest(ROUTE, observed, started);
  }
  const k = outcome.key;
  if (k) {
    // runRoute's event for verify: metered to the verified key; refusals answer 200 too, and only
    // a VALID answer spent the organization's quota.
    const ua = req.headers["user-agent"];
    keyed++;
    const kept = meter({
      apiKeyId: k.id,
      organizationId: k.organizationId,
      endpoint: PATH,
      method: "POST",
      statusCode: 200,
      responseTimeMs: Math.round(performance.now() - started),
      ipAddress: ip,
      userAgent: ua === undefined ? null : ua.slice(0, 256),
      errorCode: null,
      billable: outcome.code === "VALID",
    });
    if (kept) metered++;
  }
  send(res, 200, headers, json);
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, ["content-type", "text/plain; charset=utf-8", "content-length", "9"]);
  res.end("not found");
}

async function main() {
  const database = await getDatabase({ thread: true });
  onShutdown("database", () => database.close(), 90);
  const db = database.prisma;

  const server = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (req.method !== "POST" || (url !== PATH && !url.startsWith(`${PATH}?`))) {
      return notFound(res);
    }
    const started = performance.now();
    const requestId = newRequestId();
    if (url !== PATH) {
      // A query string: the route core's URL check (a key in the URL is refused).
      try {
        rejectKeyInUrl(new URL(url, "http://localhost"));
      } catch (e) {
        req.resume();
        return sendProblem(res, e, requestId, started);
      }
    }
    const declared = req.headers["content-length"];
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > LIMIT) {
      req.resume();
      return sendProblem(
        res,
        new KeywardError("PAYLOAD_TOO_LARGE", `The body may be at most ${LIMIT} bytes.`),
        requestId,
        started,
      );
    }
    // Usually one chunk: no array, no concat.
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > LIMIT) {
        failed = true;
        req.resume();
        sendProblem(
          res,
          new KeywardError("PAYLOAD_TOO_LARGE", `The body may be at most ${LIMIT} bytes.`),
          requestId,
          started,
        );
        return;
      }
      if (first === undefined) first = c;
      else if (more === undefined) more = [first, c];
      else more.push(c);
    });
    req.on("end", () => {
      if (failed) return;
      const text = more
        ? Buffer.concat(more).toString("utf8")
        : first
          ? first.toString("utf8")
          : "";
      serve(db, req, res, text, started, requestId).catch((e) => {
        console.error("fast-verify: request failed", (e as Error).message);
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        }
      });
    });
  });
  server.keepAliveTimeout = 65_000;
  onShutdown(
    "http",
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 3_000).unref();
      }),
    20,
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  console.log(
    `keyward: ready on http://127.0.0.1:${port} (fast verify path${schemaAlways ? ", zod always" : ""}${metricsOn ? "" : ", no metrics"})`,
  );

  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    console.log(`keyward: ${signal}, shutting down`);
    const recorder = getUsageRecorder();
    shutdown().then(() => {
      const { recorded, written, dropped, orphaned } = recorder.stats();
      console.log(
        `fast-verify: answered ${keyed} verifies of a key, metered ${metered}; recorder: recorded ${recorded}, written ${written}, dropped ${dropped}, orphaned ${orphaned}`,
      );
      process.exit(0);
    });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => {
  console.error(`fast-verify: ${(e as Error).message}`);
  process.exit(1);
});
