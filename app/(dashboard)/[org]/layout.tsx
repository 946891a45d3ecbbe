import { KeyRound, LogOut } from "lucide-react";
import Link from "next/link";
import type { ReactNode } from "react";
import { signOutAction } from "@/app/(auth)/actions";
import { ResendVerificationButton } from "@/components/auth/account-forms";
import { OrgNav } from "@/components/dashboard/org-nav";
import { OrgSwitcher } from "@/components/dashboard/org-switcher";
import { Badge } from "@/components/ui/badge";
import { requireMember } from "../_lib/access";
import { getUser, listOrganizationsOfUser } from "../_lib/data";

export default async function OrgLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ org: string }>;
}) {
  const { org } = await params;
  const { user, organization, role } = await requireMember(org);
  const [organizations, me] = await Promise.all([
    listOrganizationsOfUser(user.id),
    getUser(user.id),
  ]);
  return (
    <div className="min-h-dvh">
      <header className="border-b border-border bg-card">
        <div className="mx-auto flex max-w-7xl items-center gap-2 px-4 pt-3 sm:px-6">
          <Link
            href="/dashboard"
            className="flex items-center gap-1.5 font-semibold"
            aria-label="Keyward"
          >
            <KeyRound className="size-5 text-primary" aria-hidden="true" />
            <span className="hidden sm:inline">Keyward</span>
          </Link>
          <span className="text-muted-foreground" aria-hidden="true">
            /
          </span>
          <OrgSwitcher
            current={{ slug: organization.slug, name: organization.name }}
            organizations={organizations.map((o) => ({
              slug: o.organization.slug,
              name: o.organization.name,
              role: o.role,
            }))}
          />
          <Badge tone="neutral" className="hidden sm:inline-flex" data-testid="role-badge">
            {role.toLowerCase()}
          </Badge>
          <div className="ml-auto flex min-w-0 items-center gap-2">
            <span
              className="hidden truncate text-sm text-muted-foreground md:inline"
              title={user.email}
            >
              {user.email}
            </span>
            <form action={signOutAction}>
              <button
                type="submit"
                className="flex items-center gap-1.5 rounded-md px-2 py-1.5 text-sm text-muted-foreground hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-ring"
              >
                <LogOut className="size-4" aria-hidden="true" />
                <span className="hidden sm:inline">Sign out</span>
                <span className="sr-only sm:hidden">Sign out</span>
              </button>
            </form>
          </div>
        </div>
        <div className="mx-auto max-w-7xl px-2 sm:px-4">
          <OrgNav slug={organization.slug} />
        </div>
      </header>
      {me && !me.emailVerified ? (
        <div
          className="border-b border-warning/40 bg-warning-subtle text-warning"
          data-testid="verify-banner"
        >
          <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-3 px-4 py-2 text-sm sm:px-6">
            <span>
              Confirm your email address: open the link we sent to {me.email}. Until then you cannot
              join other organizations.
            </span>
            <ResendVerificationButton />
          </div>
        </div>
      ) : null}
      <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6 sm:py-8">{children}</main>
    </div>
  );
}
