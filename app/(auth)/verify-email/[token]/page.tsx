import type { Metadata } from "next";
import Link from "next/link";
import { ConfirmEmailForm } from "@/components/auth/account-forms";
import { checkEmailVerification } from "../../../(dashboard)/_lib/data";

export const metadata: Metadata = { title: "Confirm your email · Keyward" };

// Opening the link only asks; the button confirms (a POST), so a mail scanner that fetches the
// link cannot use it up.
export default async function VerifyEmailPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const { state, email } = await checkEmailVerification(token);
  const problems: Record<Exclude<typeof state, "valid">, string> = {
    invalid: "This confirmation link is not valid.",
    used: "This confirmation link was already used.",
    expired: "This confirmation link has expired.",
  };
  return (
    <div className="space-y-4">
      <h1 className="text-xl font-semibold">Confirm your email</h1>
      {state === "valid" ? (
        <>
          <p className="text-sm text-muted-foreground">
            Confirm that <strong className="text-foreground">{email}</strong> is your address.
          </p>
          <ConfirmEmailForm token={token} />
        </>
      ) : (
        <>
          <p className="text-sm text-danger" data-testid="verify-problem">
            {problems[state]}
          </p>
          <p className="text-sm text-muted-foreground">
            Sign in and use <em>Resend link</em> on the dashboard for a new one.{" "}
            <Link
              href="/login"
              className="font-medium text-primary underline-offset-4 hover:underline"
            >
              Sign in
            </Link>
          </p>
        </>
      )}
    </div>
  );
}
