// Auth.js v5 for the dashboard: email + password (argon2id) out of the box, GitHub and Google
// when their variables are set; JWT sessions (the token carries only our user id); failed
// sign-ins throttled per email and per client address.
import NextAuth, { CredentialsSignin, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import { z } from "zod";
import { clientAddress } from "@/lib/auth/client-address";
import { oauthRefusalError, resolveOAuthEmail } from "@/lib/auth/oauth-email";
import { PasswordWorkBusy } from "@/lib/auth/password";
import { sameOriginPath } from "@/lib/auth/redirect-target";
import { signInThrottle } from "@/lib/auth/sign-in-throttle";
import { config } from "@/lib/config";
import { getDb } from "@/lib/db";
import { authenticateWithPassword, findOrCreateOAuthUser } from "@/lib/services/user-service";

declare module "next-auth" {
  interface Session {
    user: { id: string; email: string; name?: string | null; image?: string | null };
  }
}

/** Wrong email or password: one answer for both, so emails cannot be probed. */
export class InvalidCredentials extends CredentialsSignin {
  code = "invalid_credentials";
}

/** Too many failed attempts for this email or address: no password was checked. */
export class TooManySignInAttempts extends CredentialsSignin {
  code = "rate_limited";
}

/** The password queue is full (a flood): no password was checked, nothing counted. */
export class SignInBusy extends CredentialsSignin {
  code = "busy";
}

const CredentialsInput = z.object({
  email: z.email().max(254),
  password: z.string().min(1).max(200),
});

const providers: NextAuthConfig["providers"] = [
  Credentials({
    credentials: { email: { label: "Email", type: "email" }, password: { type: "password" } },
    async authorize(raw, request) {
      const parsed = CredentialsInput.safeParse(raw);
      if (!parsed.success) throw new InvalidCredentials();
      const email = parsed.data.email.toLowerCase();
      const address = clientAddress(request.headers);
      // Reserved before the password is checked, so concurrent guesses cannot buy more checks.
      const attempt = await signInThrottle().attempt(email, address);
      if (!attempt.allowed) throw new TooManySignInAttempts();
      let user: Awaited<ReturnType<typeof authenticateWithPassword>>;
      try {
        user = await authenticateWithPassword(await getDb(), email, parsed.data.password);
      } catch (e) {
        await attempt.abandoned(); // never checked: the attempt does not count
        if (e instanceof PasswordWorkBusy) throw new SignInBusy();
        throw e;
      }
      if (!user) throw new InvalidCredentials(); // the reserved slots stay counted
      await attempt.succeeded();
      return { id: user.id, email: user.email, name: user.name };
    },
  }),
];

const env = config();
if (env.AUTH_GITHUB_ID && env.AUTH_GITHUB_SECRET) providers.push(GitHub);
if (env.AUTH_GOOGLE_ID && env.AUTH_GOOGLE_SECRET) providers.push(Google);

/** The OAuth providers switched on, for the sign-in page's buttons. */
export const oauthProviders = providers
  .map((p) => (typeof p === "function" ? p() : p))
  .filter((p) => p.type === "oauth" || p.type === "oidc")
  .map((p) => ({ id: p.id, name: p.name }));

const SESSION_MAX_AGE = 12 * 60 * 60;

// The provider-verified email decided in the signIn callback, for the jwt callback of the same
// sign-in (Auth.js passes both the same account object).
const verifiedOAuthEmail = new WeakMap<object, string>();

export const { handlers, auth, signIn, signOut } = NextAuth({
  secret: env.AUTH_SECRET,
  trustHost: true,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE, updateAge: 60 * 60 },
  pages: { signIn: "/login", error: "/login" },
  providers,
  callbacks: {
    // Every redirect Auth.js makes (callbackUrl, sign-out) stays on this origin. A path, not an
    // absolute URL: the browser resolves it against the origin it used (Auth.js's baseUrl can be
    // the server's own name, e.g. localhost, rather than the one in the address bar).
    redirect({ url, baseUrl }) {
      return sameOriginPath(url, baseUrl);
    },
    async signIn({ account, profile }) {
      if (!account || account.type === "credentials") return true;
      // An OAuth account is tied to a local user by email: only an email the provider verified
      // (GitHub: the verified primary of /user/emails, never the profile's; Google: email_verified).
      const decision = await resolveOAuthEmail({
        provider: account.provider,
        profile,
        accessToken: account.access_token,
      });
      if (!decision.ok) {
        console.warn(`[auth] ${account.provider} sign-in refused: email ${decision.reason}`);
        return `/login?error=${oauthRefusalError(decision.reason)}`;
      }
      verifiedOAuthEmail.set(account, decision.email);
      return true;
    },
    async jwt({ token, user, account, profile }) {
      if (account && account.type !== "credentials") {
        const email = verifiedOAuthEmail.get(account);
        if (!email) throw new Error("OAuth sign-in without a verified email");
        const local = await findOrCreateOAuthUser(await getDb(), {
          email,
          name: (profile?.name as string | undefined) ?? user?.name ?? null,
          image: user?.image ?? null,
        });
        token.sub = local.id;
        token.email = local.email;
      } else if (user?.id) {
        token.sub = user.id;
      }
      // Keep the token small: our user id, email and name only.
      delete token.picture;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
  logger: {
    // Wrong passwords and throttled attempts are expected: one line, no stack.
    error(error) {
      if (error instanceof CredentialsSignin) return;
      const type = (error as { type?: string }).type ?? error.name;
      console.error(`[auth] ${type}: ${error.message}`);
      const cause = (error as { cause?: { err?: unknown } }).cause;
      if (cause?.err instanceof Error) console.error(cause.err.stack);
    },
    warn(code) {
      console.warn(`[auth] warning: ${code}`);
    },
    debug() {},
  },
});
