// Redirect targets never lead off-site: every hostile callbackUrl (tabs, newlines, backslashes,
// encoded slashes, other schemes and hosts) ends on this origin, signed out and signed in, in
// the login page's form, in Auth.js's own callback and sign-out, and in the browser's final URL.
// One account, signed up once; the table runs in a few seconds.
import { type APIRequestContext, expect, type Page, test } from "@playwright/test";

test.describe.configure({ mode: "serial" });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const who = {
  name: "Rita Redirect",
  email: `rita-${RUN}@example.test`,
  password: "a long and sturdy passphrase",
  org: `Redirects ${RUN}`,
};

/** Query values exactly as they appear in the URL (already percent-encoded where shown). */
const HOSTILE = [
  "//example.com",
  "//example.com/keys",
  "/\\example.com",
  "/%5Cexample.com",
  "/%5C%5Cexample.com",
  "/%09/example.com",
  "%2F%09%2Fexample.com", // "/\t/example.com"
  "/%0A/example.com",
  "%2F%2Fexample.com",
  "/.//example.com",
  "https://example.com",
  "https%3A%2F%2Fexample.com%2Fkeys",
  "javascript:alert(1)",
  "javascript%3Aalert(document.cookie)",
  "http://127.0.0.1:1/keys",
  "http://example.com@127.0.0.1/",
];

let origin: string;
let signedIn: Page;

/** A Location header or URL resolved against the app: it must be this origin. */
function expectHome(where: string | null | undefined, label: string) {
  expect(where, label).toBeTruthy();
  const url = new URL(where as string, origin);
  expect(url.origin, `${label} -> ${where}`).toBe(origin);
  expect(url.pathname.startsWith("//"), `${label} -> ${where}`).toBe(false);
}

async function csrf(request: APIRequestContext): Promise<string> {
  const res = await request.get("/api/auth/csrf");
  return ((await res.json()) as { csrfToken: string }).csrfToken;
}

test.beforeAll(async ({ browser, baseURL }) => {
  origin = new URL(baseURL as string).origin;
  const context = await browser.newContext({ baseURL });
  signedIn = await context.newPage();
  await signedIn.goto("/signup");
  await signedIn.locator("#name").fill(who.name);
  await signedIn.locator("#email").fill(who.email);
  await signedIn.locator("#password").fill(who.password);
  await signedIn.locator("#organizationName").fill(who.org);
  await signedIn.getByRole("button", { name: "Create account" }).click();
  await signedIn.waitForURL(/\/[a-z0-9-]+\/keys$/);
});

test.afterAll(async () => {
  await signedIn?.context().close();
});

test("signed out: the login form carries only a same-origin target", async ({ page }) => {
  for (const raw of HOSTILE) {
    const res = await page.goto(`/login?callbackUrl=${raw}`);
    expect(res?.status(), raw).toBe(200);
    const value = await page.locator('input[name="callbackUrl"]').getAttribute("value");
    expectHome(value, raw);
    expect(value, raw).toBe("/dashboard");
  }
  await page.goto(`/login?callbackUrl=${encodeURIComponent(`${origin}/keys?tab=1`)}`);
  expect(await page.locator('input[name="callbackUrl"]').getAttribute("value")).toBe("/keys?tab=1");
});

test("signed out: a form sign-in with a hostile target lands on this origin", async ({ page }) => {
  await page.goto("/login?callbackUrl=/%09/example.com");
  await page.locator("#email").fill(who.email);
  await page.locator("#password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);
  expect(new URL(page.url()).origin).toBe(origin);
});

test("Auth.js's credentials callback and sign-out answer only same-origin Locations", async ({
  request,
}) => {
  const token = await csrf(request);
  for (const raw of HOSTILE) {
    const callbackUrl = decodeURIComponent(raw);
    const res = await request.post("/api/auth/callback/credentials", {
      form: { email: who.email, password: who.password, csrfToken: token, callbackUrl },
      maxRedirects: 0,
    });
    expect(res.status(), raw).toBe(302);
    expectHome(res.headers().location, `callback ${raw}`);
  }
  // A same-origin path is kept (the login page has already turned an absolute same-origin URL
  // into its path; Auth.js's own origin may be the server's name, so only paths are compared).
  const same = await request.post("/api/auth/callback/credentials", {
    form: { email: who.email, password: who.password, csrfToken: token, callbackUrl: "/keys?x=1" },
    maxRedirects: 0,
  });
  expect(same.headers().location).toBe("/keys?x=1");
  for (const raw of HOSTILE) {
    const res = await request.post("/api/auth/signout", {
      form: { csrfToken: await csrf(request), callbackUrl: decodeURIComponent(raw) },
      maxRedirects: 0,
    });
    expect(res.status(), raw).toBe(302);
    expectHome(res.headers().location, `signout ${raw}`);
  }
});

test("signed in: /login and /signup redirect only within this origin", async () => {
  const page = signedIn;
  for (const raw of HOSTILE) {
    const res = await page.request.get(`/login?callbackUrl=${raw}`, { maxRedirects: 0 });
    expect(res.status(), raw).toBe(307);
    expectHome(res.headers().location, `login ${raw}`);
    const signup = await page.request.get(`/signup?callbackUrl=${raw}`, { maxRedirects: 0 });
    expectHome(signup.headers().location, `signup ${raw}`);
  }
  // The browser follows them: the final page is ours every time.
  for (const raw of [
    "/%09/example.com",
    "/\\example.com",
    "//example.com",
    "javascript:alert(1)",
  ]) {
    await page.goto(`/login?callbackUrl=${raw}`);
    expect(new URL(page.url()).origin, raw).toBe(origin);
  }
  const same = await page.request.get(
    `/login?callbackUrl=${encodeURIComponent(`${origin}/keys`)}`,
    {
      maxRedirects: 0,
    },
  );
  expect(new URL(same.headers().location as string, origin).href).toBe(`${origin}/keys`);
});
