// What counts as "the database is unreachable" (503 DEPENDENCY_UNAVAILABLE instead of a 500),
// and which page POSTs server.ts refuses before Next reads them.
import { describe, expect, it } from "vitest";
import { Prisma } from "@/lib/db";
import { isDatabaseUnavailable } from "@/lib/db/errors";
import { pagePostRefusal } from "@/lib/http/body-limit";
import { errorToProblem } from "@/lib/http/problem";

const known = (code: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError("failed", { code, clientVersion: "7", meta });

describe("isDatabaseUnavailable", () => {
  it.each([
    ["P1001 can't reach", known("P1001")],
    ["P1017 server closed the connection", known("P1017")],
    ["P2024 pool timeout", known("P2024")],
    [
      "P2010 raw query with an unreachable adapter",
      known("P2010", { driverAdapterError: { cause: { kind: "DatabaseNotReachable" } } }),
    ],
    [
      "adapter: server shutting down (57P01)",
      known("P2010", {
        driverAdapterError: { cause: { kind: "postgres", originalCode: "57P01" } },
      }),
    ],
    ["pg pool connect timeout", new Error("timeout exceeded when trying to connect")],
    ["pg connection terminated", new Error("Connection terminated unexpectedly")],
    [
      "node ECONNREFUSED",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    ],
    ["wrapped in a cause", new Error("outer", { cause: known("P1001") })],
  ])("%s: yes", (_, e) => {
    expect(isDatabaseUnavailable(e)).toBe(true);
  });

  it.each([
    ["unique violation", known("P2002")],
    ["record not found", known("P2025")],
    [
      "adapter: a constraint",
      known("P2010", { driverAdapterError: { cause: { kind: "UniqueConstraintViolation" } } }),
    ],
    ["a plain bug", new TypeError("x is undefined")],
    ["not an error", "text"],
  ])("%s: no", (_, e) => {
    expect(isDatabaseUnavailable(e)).toBe(false);
  });

  it("becomes 503 DEPENDENCY_UNAVAILABLE with Retry-After, saying nothing of the cause", () => {
    const r = errorToProblem(known("P1001"), "req_x", "/api/v1/keys");
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.body).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE", status: 503 });
    expect(JSON.stringify(r.body)).not.toContain("P1001");
    expect(errorToProblem(new TypeError("bug"), "req_y", "/api/v1/keys").status).toBe(500);
  });
});

describe("pagePostRefusal (server.ts, server actions)", () => {
  it("refuses a page POST over 64 KiB (413) or without a length (411)", () => {
    expect(pagePostRefusal("POST", "/login", String(64 * 1024 + 1), undefined)?.status).toBe(413);
    expect(pagePostRefusal("POST", "/signup", undefined, "chunked")?.status).toBe(411);
    const auth = pagePostRefusal("POST", "/api/auth/callback/credentials", "999999999", undefined);
    expect(auth?.status).toBe(413);
    // A streamed body to /api/auth is refused before it is read, as for pages.
    expect(
      pagePostRefusal("POST", "/api/auth/callback/credentials", undefined, "chunked")?.status,
    ).toBe(411);
  });

  it("lets through what fits, GETs, bodiless POSTs and /api/* (they bound their own)", () => {
    expect(pagePostRefusal("POST", "/login", String(64 * 1024), undefined)).toBeNull();
    expect(pagePostRefusal("POST", "/login", undefined, undefined)).toBeNull();
    expect(pagePostRefusal("GET", "/login", undefined, "chunked")).toBeNull();
    expect(
      pagePostRefusal("POST", "/api/auth/callback/credentials", "65536", undefined),
    ).toBeNull();
    expect(pagePostRefusal("POST", "/api/v1/keys", undefined, "chunked")).toBeNull();
  });
});
