// The public landing page. It says what Keyward is and nothing about this instance's data (no
// counts, no organization names): anonymous visitors learn nothing here. Signed-in visitors go
// straight to their dashboard.
import Link from "next/link";
import { redirect } from "next/navigation";
import { auth } from "@/auth";
import { HOME_PATH } from "@/lib/auth/redirect-target";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  if (await auth()) redirect(HOME_PATH);
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-6 py-20">
      <h1 className="text-3xl font-semibold tracking-tight">Keyward</h1>
      <p className="text-muted-foreground">
        Issue, scope, rotate and revoke API keys; verify keys, enforce rate limits and quotas, and
        meter usage at <code>/api/v1</code>.
      </p>
      <div className="flex flex-wrap gap-4 text-sm">
        <Link className="font-medium underline" href="/login">
          Sign in
        </Link>
        <Link className="font-medium underline" href="/signup">
          Create an account
        </Link>
        <Link className="font-medium underline" href="/docs">
          API reference
        </Link>
      </div>
    </main>
  );
}
