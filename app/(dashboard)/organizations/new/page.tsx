import { KeyRound } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { NewOrganizationForm } from "@/components/dashboard/new-organization-form";
import { requireUser } from "../../_lib/access";

export const metadata: Metadata = { title: "New organization · Keyward" };

export default async function NewOrganizationPage() {
  const user = await requireUser();
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center bg-muted/40 px-4 py-10">
      <Link href="/dashboard" className="mb-6 flex items-center gap-2 text-lg font-semibold">
        <KeyRound className="size-5 text-primary" aria-hidden="true" />
        Keyward
      </Link>
      <div className="w-full max-w-sm rounded-lg border border-border bg-card p-6 shadow-sm">
        <h1 className="text-xl font-semibold">New organization</h1>
        <p className="mb-5 text-sm text-muted-foreground">
          Keys, usage and members belong to an organization. You will be its owner.
        </p>
        <NewOrganizationForm defaultEmail={user.email} />
      </div>
    </main>
  );
}
