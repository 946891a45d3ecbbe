// The privilege ceiling on its own: what a key, a dashboard admin and nobody else may grant.
import { describe, expect, it } from "vitest";
import { isKeywardError, type KeywardError } from "@/lib/errors";
import {
  applyCeiling,
  changedOnly,
  checkSelfUpdate,
  type KeyRights,
  keyCeiling,
  planCeiling,
} from "./privilege-ceiling";

const day = 86_400_000;
const now = Date.parse("2026-12-01T12:00:00Z");
const in2d = new Date(now + 2 * day);

const caller: KeyRights = {
  environment: "live",
  scopes: ["keys:read", "keys:write"],
  expiresAt: in2d,
  rateLimitPerMinute: 100,
};

/** The refusal thrown by `fn`: PRIVILEGE_CEILING, 403, and the field it names. */
function refusal(fn: () => unknown): { field: string; error: KeywardError } {
  try {
    fn();
  } catch (e) {
    if (!isKeywardError(e)) throw e;
    expect(e.code).toBe("PRIVILEGE_CEILING");
    expect(e.status).toBe(403);
    expect(e.issues?.length).toBe(1);
    return { field: e.issues![0]!.path, error: e };
  }
  throw new Error("expected a PRIVILEGE_CEILING refusal");
}

describe("keyCeiling", () => {
  it("takes the key's own rights; its effective limit is its own, else the plan's", () => {
    expect(keyCeiling(caller, 1000)).toEqual({
      kind: "key",
      scopes: ["keys:read", "keys:write"],
      expiresAt: in2d,
      environment: undefined,
      maxRateLimitPerMinute: 100,
      planRateLimitPerMinute: 1000,
    });
    const planLimited = keyCeiling({ ...caller, rateLimitPerMinute: null }, 60);
    expect(planLimited.maxRateLimitPerMinute).toBe(60);
    expect(keyCeiling({ ...caller, environment: "test" }, 60).environment).toBe("test");
  });
});

describe("applyCeiling for a key", () => {
  const c = keyCeiling(caller, 1000);

  it("refuses scopes the key does not hold, naming them", () => {
    const r = refusal(() => applyCeiling(c, { scopes: ["keys:read", "usage:write"] }, "create"));
    expect(r.field).toBe("scopes");
    expect(r.error.message).toContain("usage:write");
    expect(r.error.message).not.toContain("keys:read,");
  });

  it("allows a subset of its scopes, including none", () => {
    expect(applyCeiling(c, { scopes: ["keys:read"] }, "create").scopes).toEqual(["keys:read"]);
    expect(applyCeiling(c, { scopes: [] }, "update").scopes).toEqual([]);
  });

  it("an expiring key: never-expiring is refused, later is refused, earlier or equal is allowed", () => {
    expect(refusal(() => applyCeiling(c, { expiresAt: null }, "create")).field).toBe("expiresAt");
    expect(refusal(() => applyCeiling(c, { expiresAt: null }, "update")).field).toBe("expiresAt");
    const later = new Date(in2d.getTime() + 1);
    expect(refusal(() => applyCeiling(c, { expiresAt: later }, "update")).field).toBe("expiresAt");
    const earlier = new Date(now + day);
    expect(applyCeiling(c, { expiresAt: earlier }, "create").expiresAt).toBe(earlier);
    expect(applyCeiling(c, { expiresAt: in2d }, "create").expiresAt).toBe(in2d);
  });

  it("an omitted expiry on create is the caller's own; on update it stays omitted", () => {
    expect(applyCeiling(c, {}, "create").expiresAt).toEqual(in2d);
    expect(applyCeiling(c, {}, "update")).not.toHaveProperty("expiresAt", in2d);
  });

  it("a key that never expires may grant no expiry", () => {
    const forever = keyCeiling({ ...caller, expiresAt: null }, 1000);
    expect(applyCeiling(forever, { expiresAt: null }, "create").expiresAt).toBeNull();
    expect(applyCeiling(forever, {}, "create").expiresAt).toBeUndefined();
  });

  it("a limit above the key's effective limit is refused; at or below it is allowed", () => {
    expect(refusal(() => applyCeiling(c, { rateLimitPerMinute: 1_000_000 }, "update")).field).toBe(
      "rateLimitPerMinute",
    );
    expect(refusal(() => applyCeiling(c, { rateLimitPerMinute: 101 }, "create")).field).toBe(
      "rateLimitPerMinute",
    );
    expect(applyCeiling(c, { rateLimitPerMinute: 100 }, "create").rateLimitPerMinute).toBe(100);
    expect(applyCeiling(c, { rateLimitPerMinute: 5 }, "update").rateLimitPerMinute).toBe(5);
  });

  it("null (the plan's limit) is refused when the plan's is above the key's, allowed when not", () => {
    expect(refusal(() => applyCeiling(c, { rateLimitPerMinute: null }, "update")).field).toBe(
      "rateLimitPerMinute",
    );
    const high = keyCeiling({ ...caller, rateLimitPerMinute: 5000 }, 1000);
    expect(applyCeiling(high, { rateLimitPerMinute: null }, "create").rateLimitPerMinute).toBe(
      null,
    );
    const planOnly = keyCeiling({ ...caller, rateLimitPerMinute: null }, 1000);
    expect(applyCeiling(planOnly, { rateLimitPerMinute: null }, "update").rateLimitPerMinute).toBe(
      null,
    );
    expect(
      refusal(() => applyCeiling(planOnly, { rateLimitPerMinute: 1001 }, "update")).field,
    ).toBe("rateLimitPerMinute");
  });

  it("an omitted limit on create is the caller's when the plan's is higher, else the plan's", () => {
    expect(applyCeiling(c, {}, "create").rateLimitPerMinute).toBe(100);
    const planOnly = keyCeiling({ ...caller, rateLimitPerMinute: null }, 1000);
    expect(applyCeiling(planOnly, {}, "create").rateLimitPerMinute).toBeUndefined();
    expect(applyCeiling(c, {}, "update").rateLimitPerMinute).toBeUndefined();
  });

  it("a test key makes only test keys; a live key either", () => {
    const t = keyCeiling({ ...caller, environment: "test" }, 1000);
    expect(refusal(() => applyCeiling(t, { environment: "live" }, "create")).field).toBe(
      "environment",
    );
    expect(applyCeiling(t, { environment: "test" }, "create").environment).toBe("test");
    expect(applyCeiling(c, { environment: "test" }, "create").environment).toBe("test");
  });
});

describe("applyCeiling for a dashboard admin (the plan)", () => {
  const c = planCeiling(60);
  it("bounds only the per-key limit, by the plan's", () => {
    expect(refusal(() => applyCeiling(c, { rateLimitPerMinute: 61 }, "create")).field).toBe(
      "rateLimitPerMinute",
    );
    expect(
      applyCeiling(
        c,
        { rateLimitPerMinute: 60, scopes: ["anything:at-all"], expiresAt: null },
        "create",
      ),
    ).toEqual({ rateLimitPerMinute: 60, scopes: ["anything:at-all"], expiresAt: null });
    expect(applyCeiling(c, { rateLimitPerMinute: null }, "update").rateLimitPerMinute).toBeNull();
    expect(applyCeiling(c, {}, "create")).toEqual({});
  });
});

describe("checkSelfUpdate", () => {
  it("refuses any change to the key's own scopes, expiry or limit, naming the field", () => {
    expect(refusal(() => checkSelfUpdate(caller, { scopes: ["keys:read"] })).field).toBe("scopes");
    expect(
      refusal(() => checkSelfUpdate(caller, { scopes: [...caller.scopes, "usage:read"] })).field,
    ).toBe("scopes");
    expect(refusal(() => checkSelfUpdate(caller, { expiresAt: new Date(now + day) })).field).toBe(
      "expiresAt",
    );
    expect(refusal(() => checkSelfUpdate(caller, { expiresAt: null })).field).toBe("expiresAt");
    expect(refusal(() => checkSelfUpdate(caller, { rateLimitPerMinute: 99 })).field).toBe(
      "rateLimitPerMinute",
    );
    expect(refusal(() => checkSelfUpdate(caller, { rateLimitPerMinute: null })).field).toBe(
      "rateLimitPerMinute",
    );
  });

  it("lets a name through and drops fields sent unchanged", () => {
    const patch = {
      name: "renamed",
      scopes: ["keys:write", "keys:read"],
      expiresAt: new Date(in2d.getTime()),
      rateLimitPerMinute: 100,
    };
    expect(checkSelfUpdate(caller, patch)).toEqual({ name: "renamed" });
  });
});

describe("changedOnly", () => {
  it("keeps what changes and drops what a form sent back unchanged", () => {
    const target = { ...caller, rateLimitPerMinute: 5000 };
    expect(
      changedOnly(target, {
        scopes: ["keys:write", "keys:read"],
        expiresAt: new Date(in2d.getTime()),
        rateLimitPerMinute: 5000,
      }),
    ).toEqual({});
    expect(changedOnly(target, { rateLimitPerMinute: null, scopes: ["keys:read"] })).toEqual({
      rateLimitPerMinute: null,
      scopes: ["keys:read"],
    });
    expect(changedOnly({ ...target, expiresAt: null }, { expiresAt: null })).toEqual({});
    expect(changedOnly({ ...target, expiresAt: null }, { expiresAt: in2d })).toEqual({
      expiresAt: in2d,
    });
  });
});

describe("a key fenced to networks", () => {
  const fenced = keyCeiling({ ...caller, allowedCidrs: ["10.0.0.0/8", "2001:db8::/32"] }, 1000);

  it("gives its own networks to a key created without any", () => {
    expect(applyCeiling(fenced, {}, "create").allowedCidrs).toEqual([
      "10.0.0.0/8",
      "2001:db8::/32",
    ]);
  });

  it("grants networks inside its own, IPv4 and IPv6", () => {
    const grant = { allowedCidrs: ["10.1.0.0/16", "10.2.3.4/32", "2001:db8:1::/48"] };
    expect(applyCeiling(fenced, grant, "create").allowedCidrs).toEqual(grant.allowedCidrs);
    expect(applyCeiling(fenced, grant, "update").allowedCidrs).toEqual(grant.allowedCidrs);
  });

  it("refuses anywhere (empty) and any network outside or wider, on create and update", () => {
    for (const mode of ["create", "update"] as const) {
      expect(refusal(() => applyCeiling(fenced, { allowedCidrs: [] }, mode)).field).toBe(
        "allowedCidrs",
      );
      for (const wider of ["0.0.0.0/0", "10.0.0.0/7", "192.168.0.0/16", "2001:db8::/31", "::/0"]) {
        const { field, error } = refusal(() =>
          applyCeiling(fenced, { allowedCidrs: ["10.1.0.0/16", wider] }, mode),
        );
        expect(field).toBe("allowedCidrs");
        expect(error.message).toContain(wider);
      }
    }
  });

  it("leaves an update that does not touch the networks alone, and an unfenced key free", () => {
    expect(applyCeiling(fenced, { scopes: ["keys:read"] }, "update").allowedCidrs).toBeUndefined();
    expect(applyCeiling(keyCeiling(caller, 1000), { allowedCidrs: [] }, "create")).toEqual({
      allowedCidrs: [],
      expiresAt: in2d,
      rateLimitPerMinute: 100,
    });
  });

  it("sending back the networks a key already has is no change", () => {
    const target = { ...caller, allowedCidrs: ["192.0.2.0/24"] };
    expect(changedOnly(target, { allowedCidrs: ["192.0.2.0/24"] })).toEqual({});
  });
});
