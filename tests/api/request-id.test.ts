import { describe, expect, it } from "vitest";
import { newRequestId } from "@/lib/http/route";

describe("newRequestId", () => {
  it("gives distinct 16-character base64url ids, also across refills of its random pool", () => {
    const ids = Array.from({ length: 5_000 }, () => newRequestId());
    for (const id of ids) expect(id).toMatch(/^req_[A-Za-z0-9_-]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
