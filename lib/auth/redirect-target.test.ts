import { describe, expect, it } from "vitest";
import { afterSignInPath, HOME_PATH, sameOriginPath } from "./redirect-target";

const APP = "http://127.0.0.1:3000";

describe("sameOriginPath", () => {
  // Every one of these is read by a browser as another site, a script, or nothing useful.
  const offSite = [
    "//example.com",
    "//example.com/keys",
    "/\\example.com",
    "\\\\example.com",
    "/\t/example.com",
    "/\n/example.com",
    "\t//example.com",
    " //example.com",
    "/\r\n/example.com",
    "https://example.com",
    "https:example.com",
    "http://127.0.0.1:3001/keys",
    "https://127.0.0.1:3000/keys",
    "http://127.0.0.1:3000@example.com/",
    "//127.0.0.1:3000@example.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/.//example.com",
    "/..//example.com",
    "///example.com",
    "\\/example.com",
    "http:/\\example.com",
  ];
  it.each(offSite)("refuses %j", (target) => {
    expect(sameOriginPath(target, APP)).toBe(HOME_PATH);
  });

  // Encoded slashes and tabs stay encoded in the path: the browser stays on this origin.
  const onSite: Array<[string, string]> = [
    ["/keys", "/keys"],
    ["/acme/keys?env=live#top", "/acme/keys?env=live#top"],
    ["keys", "/keys"],
    ["%2F%2Fexample.com", "/%2F%2Fexample.com"],
    ["/%2F%2Fexample.com", "/%2F%2Fexample.com"],
    ["/%09/example.com", "/%09/example.com"],
    ["/%5Cexample.com", "/%5Cexample.com"],
    ["/%5C%5Cexample.com", "/%5C%5Cexample.com"],
    ["http://127.0.0.1:3000/keys", "/keys"],
    ["HTTP://127.0.0.1:3000/a/../keys?x=1", "/keys?x=1"],
    ["/a/b/../../c", "/c"],
  ];
  it.each(onSite)("keeps %j on this origin as %j", (target, path) => {
    const out = sameOriginPath(target, APP);
    expect(out).toBe(path);
    expect(new URL(out, APP).origin).toBe(APP);
  });

  it("refuses what is not a string, empty, or absurdly long, and a broken app origin", () => {
    for (const v of [undefined, null, 42, {}, ["/keys"], "", `/${"a".repeat(5000)}`]) {
      expect(sameOriginPath(v, APP)).toBe(HOME_PATH);
    }
    expect(sameOriginPath("/keys", "not a url")).toBe(HOME_PATH);
    expect(sameOriginPath("//x", APP, "/elsewhere")).toBe("/elsewhere");
  });

  it("returns a path even when the app origin comes from a forged Host", () => {
    expect(sameOriginPath("https://evil.example/x", "https://evil.example")).toBe("/x");
  });
});

describe("afterSignInPath", () => {
  it("never lands on a sign-in page or an API route", () => {
    for (const t of [
      "/login",
      "/LOGIN?x=1",
      "/signup",
      "/login/",
      "/api/auth/signout",
      "/API/v1/me",
    ]) {
      expect(afterSignInPath(t, APP)).toBe(HOME_PATH);
    }
    expect(afterSignInPath("/acme/keys", APP)).toBe("/acme/keys");
    expect(afterSignInPath("/loginx", APP)).toBe("/loginx");
    expect(afterSignInPath("//example.com", APP)).toBe(HOME_PATH);
  });
});
