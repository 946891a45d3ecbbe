// Which email an OAuth sign-in may use: only one the provider says is verified, since a local
// account with that email is signed into by it. GitHub: the primary entry of GET /user/emails
// with verified: true (the profile's own email and an unverified primary are never used).
// Google: the ID token's email when email_verified is true. Pure decisions over the provider's
// answers, plus one fetch (injected, so tests use recorded answers and no network).
import { z } from "zod";

export type OAuthEmailRefusal = "unverified" | "missing" | "unavailable" | "unsupported";

export type OAuthEmailDecision =
  | { ok: true; email: string }
  | { ok: false; reason: OAuthEmailRefusal };

const Email = z.email().max(254);

const GitHubEmail = z.object({
  email: z.string(),
  primary: z.boolean(),
  verified: z.boolean(),
});

/** GitHub's GET /user/emails answer: the primary address if GitHub verified it. */
export function githubEmailFromList(body: unknown): OAuthEmailDecision {
  if (!Array.isArray(body)) return { ok: false, reason: "unavailable" };
  const entries = body.flatMap((e) => {
    const parsed = GitHubEmail.safeParse(e);
    return parsed.success ? [parsed.data] : [];
  });
  const primary = entries.find((e) => e.primary);
  if (!primary) return { ok: false, reason: "missing" };
  if (primary.verified !== true) return { ok: false, reason: "unverified" };
  const email = Email.safeParse(primary.email.trim());
  return email.success
    ? { ok: true, email: email.data.toLowerCase() }
    : { ok: false, reason: "missing" };
}

/** Google's profile (ID token claims): the email only when email_verified is true. */
export function googleEmailFromProfile(profile: unknown): OAuthEmailDecision {
  const p = (profile ?? {}) as { email?: unknown; email_verified?: unknown };
  if (typeof p.email !== "string" || !Email.safeParse(p.email.trim()).success) {
    return { ok: false, reason: "missing" };
  }
  if (p.email_verified !== true) return { ok: false, reason: "unverified" };
  return { ok: true, email: p.email.trim().toLowerCase() };
}

export const GITHUB_EMAILS_URL = "https://api.github.com/user/emails";

export interface OAuthSignIn {
  provider: string;
  profile: unknown;
  accessToken?: string | null;
}

/** The verified email for an OAuth sign-in, or why there is none. Never throws. */
export async function resolveOAuthEmail(
  signIn: OAuthSignIn,
  deps: { fetch: typeof fetch; timeoutMs?: number } = { fetch },
): Promise<OAuthEmailDecision> {
  if (signIn.provider === "google") return googleEmailFromProfile(signIn.profile);
  if (signIn.provider !== "github") return { ok: false, reason: "unsupported" };
  if (!signIn.accessToken) return { ok: false, reason: "unavailable" };
  try {
    const res = await deps.fetch(GITHUB_EMAILS_URL, {
      headers: {
        Authorization: `Bearer ${signIn.accessToken}`,
        Accept: "application/vnd.github+json",
        "User-Agent": "keyward",
        "X-GitHub-Api-Version": "2022-11-28",
      },
      signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
    });
    if (!res.ok) return { ok: false, reason: "unavailable" };
    return githubEmailFromList(await res.json());
  } catch {
    return { ok: false, reason: "unavailable" };
  }
}

/** The login page's `error` value for a refusal (its messages live with the page). */
export function oauthRefusalError(reason: OAuthEmailRefusal): string {
  return reason === "unavailable" ? "OAuthEmailUnavailable" : "OAuthEmailUnverified";
}
