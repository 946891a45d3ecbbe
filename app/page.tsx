import Link from "next/link";
import { getInstanceSummary } from "@/lib/services/instance-summary";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const summary = await getInstanceSummary();
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-6 py-20">
      <h1 className="text-3xl font-semibold tracking-tight">Keyward</h1>
      <p className="text-zinc-600 dark:text-zinc-400">
        Issue, scope, rotate and revoke API keys; verify keys, enforce rate limits and quotas, and
        meter usage at <code>/api/v1</code>.
      </p>
      <dl className="grid grid-cols-2 gap-4" data-testid="instance-summary">
        <div className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
          <dt className="text-sm text-zinc-500">Organizations</dt>
          <dd className="text-2xl font-semibold" data-testid="org-count">
            {summary.organizations}
          </dd>
        </div>
        <div className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
          <dt className="text-sm text-zinc-500">
            {summary.demo ? `Active keys in ${summary.demo.name}` : "Active keys"}
          </dt>
          <dd className="text-2xl font-semibold" data-testid="demo-key-count">
            {summary.demo ? summary.demo.activeKeys : summary.activeKeys}
          </dd>
        </div>
      </dl>
      <div className="flex flex-wrap gap-4 text-sm">
        <Link className="font-medium underline" href="/dashboard">
          Open the dashboard
        </Link>
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
