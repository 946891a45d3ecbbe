// Sign-in throttling over real HTTP, through Auth.js's credentials callback on the built app:
// 60 wrong passwords for one account sent at once check at most the per-email limit (5) of
// passwords; every other attempt is answered "throttled" (Auth.js redirects to
// /login?error=CredentialsSignin&code=rate_limited, which the login page explains), and then the
// right password is refused too until the window passes or the operator runs signin:unlock.
// Run against each rate-limit store this machine has: memory always, PostgreSQL when
// DATABASE_URL is set, Redis when REDIS_URL is set.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICIES } from "@/lib/ratelimit/policies";
import { runCli, type StartOptions, startServer, type TestServer } from "../helpers/server";

const EMAIL_LIMIT = POLICIES.signInPerEmail.limit;
const WINDOW_MINUTES = POLICIES.signInPerEmail.windowMs / 60_000;

interface Variant {
  name: string;
  options: StartOptions;
}
const variants: Variant[] = [
  {
    name: "memory store (embedded database)",
    options: { env: { RATE_LIMIT_STORE: "memory", REDIS_URL: undefined } },
  },
];
if (process.env.DATABASE_URL) {
  variants.push({
    name: "postgres store",
    options: { database: "postgres", env: { RATE_LIMIT_STORE: "postgres", REDIS_URL: undefined } },
  });
}
if (process.env.REDIS_URL) {
  variants.push({ name: "redis store", options: { env: { RATE_LIMIT_STORE: "redis" } } });
}

/** A client address of its own per run (the server trusts X-Forwarded-For here), so shared
 * stores (Redis, PostgreSQL) never carry one run's counts into another's. */
const runAddress = () =>
  `2001:db8:${randomBytes(2).toString("hex")}::${randomBytes(2).toString("hex")}`;

describe.each(variants)("sign-in throttle over HTTP: $name", ({ options }) => {
  let server: TestServer;
  const email = `owner-${randomUUID()}@example.test`;
  const password = "the right password, long enough";
  const address = runAddress();

  const cliEnv = () =>
    server.databaseUrl
      ? { DATABASE_URL: server.databaseUrl, RATE_LIMIT_STORE: options.env?.RATE_LIMIT_STORE }
      : { KEYWARD_DATA_DIR: server.dataDir, DATABASE_URL: undefined };

  beforeAll(async () => {
    server = await startServer({
      ...options,
      env: { ...options.env, KEYWARD_TRUST_PROXY: "1" },
    });
    const slug = `throttle-${randomBytes(4).toString("hex")}`;
    const org = await runCli(
      [
        "org:create",
        "--name",
        "Throttle Co",
        "--email",
        `org-${slug}@example.test`,
        "--slug",
        slug,
      ],
      cliEnv(),
    );
    expect(org.stderr).toBe("");
    const user = await runCli(
      ["user:create", "--email", email, "--password", password, "--org", slug, "--role", "OWNER"],
      cliEnv(),
    );
    expect(user.stderr).toBe("");
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
  });

  /** One session's CSRF token and cookie, as a browser gets them from Auth.js. */
  async function csrf(): Promise<{ token: string; cookie: string }> {
    const res = await fetch(`${server.url}/api/auth/csrf`);
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    return { token: csrfToken, cookie };
  }

  /** POST /api/auth/callback/credentials; returns the redirect Auth.js answers with. */
  async function signIn(session: { token: string; cookie: string }, pw: string, from = address) {
    const res = await fetch(`${server.url}/api/auth/callback/credentials`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: session.cookie,
        "x-forwarded-for": from,
      },
      body: new URLSearchParams({
        email,
        password: pw,
        csrfToken: session.token,
        callbackUrl: "/dashboard",
      }),
    });
    const location = new URL(res.headers.get("location") ?? "", server.url);
    return {
      status: res.status,
      location,
      code: location.searchParams.get("code"),
      sessionCookie: res.headers.getSetCookie().some((c) => c.startsWith("authjs.session-token=")),
    };
  }

  it("60 concurrent wrong passwords check at most 5; the rest, and then the right one, are throttled", async () => {
    const session = await csrf();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => signIn(session, `wrong password number ${i}`)),
    );
    for (const a of answers) {
      expect(a.status).toBe(302);
      expect(a.location.pathname).toBe("/login");
      expect(a.location.searchParams.get("error")).toBe("CredentialsSignin");
      expect(a.sessionCookie).toBe(false);
    }
    const codes = answers.map((a) => a.code);
    // A checked wrong password answers invalid_credentials; a throttled attempt (no password
    // checked) answers rate_limited. Reserved before the check: exactly the limit got through.
    expect(codes.filter((c) => c === "invalid_credentials")).toHaveLength(EMAIL_LIMIT);
    expect(codes.filter((c) => c === "rate_limited")).toHaveLength(60 - EMAIL_LIMIT);

    // The right password is refused as well while the window lasts, from any address.
    const right = await signIn(await csrf(), password);
    expect(right.code).toBe("rate_limited");
    expect(right.sessionCookie).toBe(false);
    const elsewhere = await signIn(await csrf(), password, runAddress());
    expect(elsewhere.code).toBe("rate_limited");

    // The login page Auth.js sends the browser to says so, with the wait.
    const page = await fetch(new URL(right.location.pathname + right.location.search, server.url));
    const html = await page.text();
    expect(html).toContain(`Too many failed sign-ins. Try again in ${WINDOW_MINUTES} minutes.`);
  }, 120_000);

  it("the operator's signin:unlock lets the right password in again", async () => {
    const unlocked = await runCli(["signin:unlock", "--email", email, "--json"], cliEnv());
    expect(unlocked.stderr).toBe("");
    expect(JSON.parse(unlocked.stdout)).toMatchObject({ ok: true, email });
    const right = await signIn(await csrf(), password);
    expect(right.status).toBe(302);
    expect(right.location.pathname).toBe("/dashboard");
    expect(right.sessionCookie).toBe(true);
  }, 60_000);
});
