// The route spec's types: a handler of a public route cannot read `ctx.auth` (the typecheck of
// `npm test` fails if the expected error below goes away); a key route's handler always has it.
import { describe, expect, expectTypeOf, it } from "vitest";
import { defineRoute } from "@/lib/http/route";
import type { AuthContext } from "@/lib/http/types";

describe("RouteContext.auth", () => {
  it("is typed absent on routes without a key and present on key routes", () => {
    const open = defineRoute({
      path: "/api/v1/example",
      method: "GET",
      operationId: "example",
      tag: "System",
      summary: "Example",
      auth: "none",
      async handler(ctx) {
        expectTypeOf(ctx.auth).toEqualTypeOf<undefined>();
        // @ts-expect-error a public route has no calling key
        return ctx.auth.key.id;
      },
    });
    const keyed = defineRoute({
      path: "/api/v1/example",
      method: "GET",
      operationId: "exampleWithKey",
      tag: "System",
      summary: "Example",
      auth: "key",
      async handler(ctx) {
        expectTypeOf(ctx.auth).toEqualTypeOf<AuthContext>();
        return ctx.auth.key.id;
      },
    });
    expect([open.auth, keyed.auth]).toEqual(["none", "key"]);
  });
});
