import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { auth, oauthProviders, signIn } from "@/auth";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Button } from "@/components/ui/button";
import { POLICIES } from "@/lib/ratelimit/policies";
import { afterSignInPath, requestOrigin } from "../redirect-target";

export const metadata: Metadata = { title: "Sign in · Keyward" };

// Auth.js sends a refused credentials sign-in here as ?error=CredentialsSignin&code=...
const CREDENTIAL_ERRORS: Record<string, string> = {
  invalid_credentials: "Wrong email or password.",
  rate_limited: `Too many failed sign-ins. Try again in ${Math.ceil(
    POLICIES.signInPerEmail.windowMs / 60_000,
  )} minutes.`,
  busy: "Too many sign-ins at once. Try again in a few seconds.",
};

const ERRORS: Record<string, string> = {
  OAuthAccountNotLinked: "That account could not be linked. Sign in with your password.",
  AccessDenied: "Access denied: the provider did not confirm your email address.",
  OAuthEmailUnverified:
    "The provider did not confirm your email address. Verify it there (for GitHub: make a verified address your primary), then try again.",
  OAuthEmailUnavailable: "The provider did not tell us your email address. Try again shortly.",
  Configuration: "Sign-in is not configured correctly. Ask the operator to check the logs.",
};

/** The table's own entry for a query value (never an inherited one like "constructor"). */
function pick(table: Record<string, string>, key: unknown, fallback: string): string {
  return typeof key === "string" && Object.hasOwn(table, key) ? table[key] : fallback;
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string; error?: string; code?: string }>;
}) {
  const { callbackUrl, error, code } = await searchParams;
  const target = afterSignInPath(callbackUrl, await requestOrigin());
  if (await auth()) redirect(target);
  const errorText = !error
    ? null
    : error === "CredentialsSignin"
      ? pick(CREDENTIAL_ERRORS, code, CREDENTIAL_ERRORS.invalid_credentials)
      : pick(ERRORS, error, "Sign-in failed. Try again.");
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-xl font-semibold">Sign in</h1>
        <p className="text-sm text-muted-foreground">Manage your organization&apos;s API keys.</p>
      </div>
      {errorText ? (
        <p data-testid="auth-error" className="text-sm text-danger">
          {errorText}
        </p>
      ) : null}
      <SignInForm callbackUrl={target} />
      {oauthProviders.length > 0 ? (
        <div className="space-y-2">
          <p className="text-center text-xs text-muted-foreground">or</p>
          {oauthProviders.map((p) => (
            <form
              key={p.id}
              action={async () => {
                "use server";
                await signIn(p.id, { redirectTo: target });
              }}
            >
              <Button type="submit" variant="outline" className="w-full">
                Continue with {p.name}
              </Button>
            </form>
          ))}
        </div>
      ) : null}
      <p className="text-center text-sm text-muted-foreground">
        New here?{" "}
        <Link
          href="/signup"
          className="font-medium text-primary underline-offset-4 hover:underline"
        >
          Create an account
        </Link>
      </p>
    </div>
  );
}
