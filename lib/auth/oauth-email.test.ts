// OAuth email decisions against recorded provider answers (GitHub's GET /user/emails and
// Google's ID token claims, in the shapes the providers send). The fetch is injected: these
// tests use no network, and assert what would have been asked.
import { describe, expect, it } from "vitest";
import {
  GITHUB_EMAILS_URL,
  githubEmailFromList,
  googleEmailFromProfile,
  oauthRefusalError,
  resolveOAuthEmail,
} from "./oauth-email";

// Recorded GitHub /user/emails answers (as documented in the REST reference).
const GITHUB = {
  verifiedPrimary: [
    { email: "Octocat@GitHub.com", primary: true, verified: true, visibility: "public" },
    { email: "octo@users.noreply.github.com", primary: false, verified: true, visibility: null },
  ],
  unverifiedPrimary: [
    { email: "newhire@corp.test", primary: true, verified: false, visibility: "private" },
    { email: "me@home.test", primary: false, verified: true, visibility: null },
  ],
  multipleVerifiedPrimaryLast: [
    { email: "old@corp.test", primary: false, verified: true, visibility: null },
    { email: "side@corp.test", primary: false, verified: false, visibility: null },
    { email: "main@corp.test", primary: true, verified: true, visibility: "private" },
  ],
  noPrimary: [{ email: "a@corp.test", primary: false, verified: true, visibility: null }],
  empty: [],
  error: { message: "Requires authentication", documentation_url: "https://docs.github.com/rest" },
};

// Recorded Google ID token claims.
const GOOGLE = {
  verified: {
    iss: "https://accounts.google.com",
    sub: "110169484474386276334",
    email: "Ada@Example.test",
    email_verified: true,
    name: "Ada",
  },
  unverified: {
    iss: "https://accounts.google.com",
    sub: "1",
    email: "ceo@corp.test",
    email_verified: false,
  },
  stringly: {
    iss: "https://accounts.google.com",
    sub: "2",
    email: "x@corp.test",
    email_verified: "true",
  },
  missing: { iss: "https://accounts.google.com", sub: "3", email_verified: true },
};

function recordedFetch(
  status: number,
  body: unknown,
  seen: { url?: string; auth?: string }[] = [],
) {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    seen.push({ url: String(input), auth: headers.get("authorization") ?? undefined });
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
}

describe("GitHub: only the verified primary address", () => {
  it("decides from recorded /user/emails answers", () => {
    expect(githubEmailFromList(GITHUB.verifiedPrimary)).toEqual({
      ok: true,
      email: "octocat@github.com",
    });
    expect(githubEmailFromList(GITHUB.unverifiedPrimary)).toEqual({
      ok: false,
      reason: "unverified",
    });
    expect(githubEmailFromList(GITHUB.multipleVerifiedPrimaryLast)).toEqual({
      ok: true,
      email: "main@corp.test",
    });
    expect(githubEmailFromList(GITHUB.noPrimary)).toEqual({ ok: false, reason: "missing" });
    expect(githubEmailFromList(GITHUB.empty)).toEqual({ ok: false, reason: "missing" });
    expect(githubEmailFromList(GITHUB.error)).toEqual({ ok: false, reason: "unavailable" });
    expect(githubEmailFromList([{ email: "not an email", primary: true, verified: true }])).toEqual(
      {
        ok: false,
        reason: "missing",
      },
    );
    // "verified" must be the boolean true, not something truthy.
    expect(githubEmailFromList([{ email: "a@b.test", primary: true, verified: "true" }])).toEqual({
      ok: false,
      reason: "missing",
    });
  });

  it("asks /user/emails with the access token and ignores the profile's email", async () => {
    const seen: { url?: string; auth?: string }[] = [];
    const decision = await resolveOAuthEmail(
      { provider: "github", profile: { email: "victim@corp.test" }, accessToken: "gho_recorded" },
      { fetch: recordedFetch(200, GITHUB.unverifiedPrimary, seen) },
    );
    expect(decision).toEqual({ ok: false, reason: "unverified" });
    expect(seen).toEqual([{ url: GITHUB_EMAILS_URL, auth: "Bearer gho_recorded" }]);

    expect(
      await resolveOAuthEmail(
        { provider: "github", profile: { email: null }, accessToken: "gho_recorded" },
        { fetch: recordedFetch(200, GITHUB.verifiedPrimary) },
      ),
    ).toEqual({ ok: true, email: "octocat@github.com" });
  });

  it("refuses when GitHub cannot be asked or answers an error", async () => {
    const github = { provider: "github", profile: {}, accessToken: "gho_recorded" };
    expect(await resolveOAuthEmail(github, { fetch: recordedFetch(401, GITHUB.error) })).toEqual({
      ok: false,
      reason: "unavailable",
    });
    const failing = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    expect(await resolveOAuthEmail(github, { fetch: failing })).toEqual({
      ok: false,
      reason: "unavailable",
    });
    const untouched: { url?: string }[] = [];
    expect(
      await resolveOAuthEmail(
        { ...github, accessToken: undefined },
        { fetch: recordedFetch(200, GITHUB.verifiedPrimary, untouched) },
      ),
    ).toEqual({ ok: false, reason: "unavailable" });
    expect(untouched).toEqual([]);
  });
});

describe("Google: email_verified must be true", () => {
  it("decides from recorded ID token claims", async () => {
    const never = recordedFetch(500, null);
    const google = (profile: unknown) =>
      resolveOAuthEmail({ provider: "google", profile }, { fetch: never });
    expect(await google(GOOGLE.verified)).toEqual({ ok: true, email: "ada@example.test" });
    expect(await google(GOOGLE.unverified)).toEqual({ ok: false, reason: "unverified" });
    expect(await google(GOOGLE.stringly)).toEqual({ ok: false, reason: "unverified" });
    expect(await google(GOOGLE.missing)).toEqual({ ok: false, reason: "missing" });
    expect(googleEmailFromProfile(undefined)).toEqual({ ok: false, reason: "missing" });
  });
});

it("other providers are refused, and refusals map to the login page's messages", async () => {
  expect(
    await resolveOAuthEmail(
      { provider: "gitlab", profile: GOOGLE.verified },
      { fetch: recordedFetch(200, []) },
    ),
  ).toEqual({
    ok: false,
    reason: "unsupported",
  });
  expect(oauthRefusalError("unverified")).toBe("OAuthEmailUnverified");
  expect(oauthRefusalError("missing")).toBe("OAuthEmailUnverified");
  expect(oauthRefusalError("unavailable")).toBe("OAuthEmailUnavailable");
});
