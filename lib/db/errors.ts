// Whether an error means "the database could not be reached or stopped answering", as opposed to
// a query the database refused. Such errors become 503 DEPENDENCY_UNAVAILABLE (lib/http/problem.ts)
// instead of a 500: the client did nothing wrong and may retry.
//
// What they look like here (checked against PostgreSQL behind a proxy that was closed, through
// @prisma/adapter-pg 7.10): PrismaClientKnownRequestError P1001 with
// meta.driverAdapterError.cause.kind "DatabaseNotReachable" for model queries, P2010 with the
// same meta for $queryRaw; pg's own errors (pool connect timeout, "Connection terminated",
// "Query read timeout") pass through the adapter unconverted.

// Prisma's connection-level codes: can't reach, timed out, server closed the connection, pool
// timeout; and P2028, a transaction that could not start (or finish) in its time, which here
// means the database is saturated (e.g. many key changes queued on one organization's lock):
// the client may retry, it is not a fault of the request.
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
const ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TlsConnectionError",
  "TooManyConnections",
]);
const NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
// SQLSTATE classes 08 (connection exception) and 57P0x (server shutting down, cannot connect now),
// 53300 too many connections.
const SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
const PG_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|the database system is (starting up|shutting down)|Can't reach database server/i;

type Loose = {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
};

export function isDatabaseUnavailable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e && typeof e === "object"; depth++) {
    const x = e as Loose;
    if (x.name === "PrismaClientInitializationError") return true;
    if (typeof x.code === "string") {
      if (PRISMA_CODES.has(x.code) || NODE_CODES.has(x.code) || SQLSTATE.test(x.code)) return true;
    }
    const adapter = x.meta?.driverAdapterError?.cause;
    if (adapter) {
      if (typeof adapter.kind === "string" && ADAPTER_KINDS.has(adapter.kind)) return true;
      if (typeof adapter.originalCode === "string" && SQLSTATE.test(adapter.originalCode)) {
        return true;
      }
    }
    // A DriverAdapterError thrown as is carries the same cause at the top.
    const kind = (x as { cause?: { kind?: unknown } }).cause?.kind;
    if (typeof kind === "string" && ADAPTER_KINDS.has(kind)) return true;
    if (typeof x.message === "string" && PG_MESSAGES.test(x.message)) return true;
    e = x.cause;
  }
  return false;
}
