import { KeyRound } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { PageHeader } from "@/components/dashboard/page-header";
import { CreateKeyButton } from "@/components/keys/create-key-dialog";
import { KeyFilters } from "@/components/keys/key-filters";
import { KeysTable } from "@/components/keys/keys-table";
import { buttonClasses } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Skeleton } from "@/components/ui/skeleton";
import { canManage } from "@/lib/auth/roles";
import { listOrganizationKeys } from "@/lib/services/dashboard-keys";
import { firstParam, type OrgPageProps, requireMemberPage } from "../../_lib/access";

export const metadata: Metadata = { title: "Keys · Keyward" };

type Search = { env?: string; status?: string; q?: string; cursor?: string };

export default async function KeysPage(props: OrgPageProps) {
  const { organization, role, searchParams: sp } = await requireMemberPage(props);
  const env = firstParam(sp.env);
  const status = firstParam(sp.status);
  const filters: Search = {
    env: env === "live" || env === "test" ? env : undefined,
    status:
      status === "active" || status === "revoked" || status === "expired" ? status : undefined,
    q: firstParam(sp.q)?.slice(0, 100) || undefined,
    cursor: firstParam(sp.cursor) || undefined,
  };
  const manage = canManage(role);
  return (
    <>
      <PageHeader
        title="API keys"
        description={`Keys for ${organization.name}. A key is shown once, when it is created or rotated.`}
        actions={manage ? <CreateKeyButton slug={organization.slug} /> : null}
      />
      <KeyFilters environment={filters.env} status={filters.status} q={filters.q} />
      <Suspense key={JSON.stringify(filters)} fallback={<TableSkeleton />}>
        <KeysList
          slug={organization.slug}
          organizationId={organization.id}
          filters={filters}
          manage={manage}
        />
      </Suspense>
    </>
  );
}

async function KeysList({
  slug,
  organizationId,
  filters,
  manage,
}: {
  slug: string;
  organizationId: string;
  filters: Search;
  manage: boolean;
}) {
  let page: Awaited<ReturnType<typeof listOrganizationKeys>>;
  try {
    page = await listOrganizationKeys(organizationId, {
      environment: filters.env as "live" | "test" | undefined,
      status: filters.status as "active" | "revoked" | "expired" | undefined,
      search: filters.q,
      cursor: filters.cursor,
    });
  } catch (e) {
    // A cursor that does not decode: start from the first page.
    if ((e as { code?: string }).code === "BAD_REQUEST" && filters.cursor) {
      page = await listOrganizationKeys(organizationId, {
        environment: filters.env as "live" | "test" | undefined,
        status: filters.status as "active" | "revoked" | "expired" | undefined,
        search: filters.q,
      });
    } else throw e;
  }
  const filtered = Boolean(filters.env || filters.status || filters.q);
  if (page.items.length === 0 && !filters.cursor) {
    return filtered ? (
      <EmptyState
        title="No keys match"
        description="Nothing matches these filters. Clear them to see every key."
        action={
          <Link href={`/${slug}/keys`} className={buttonClasses("outline")}>
            Clear filters
          </Link>
        }
      />
    ) : (
      <EmptyState
        icon={<KeyRound className="size-8" aria-hidden="true" />}
        title="No keys yet"
        description={
          manage
            ? "Create your first key: give it a name, pick live or test and the scopes it needs. You will see the key once, so have somewhere safe to paste it."
            : "This organization has no keys yet. An admin or owner can create one."
        }
        action={manage ? <CreateKeyButton slug={slug} /> : null}
      />
    );
  }
  const query = (extra: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({
      env: filters.env,
      status: filters.status,
      q: filters.q,
      ...extra,
    })) {
      if (v) p.set(k, v);
    }
    const s = p.toString();
    return s ? `?${s}` : "";
  };
  return (
    <>
      <KeysTable slug={slug} keys={page.items} canManage={manage} />
      <nav aria-label="Pagination" className="mt-4 flex items-center justify-between gap-2 text-sm">
        <span className="text-muted-foreground">
          {page.items.length} key{page.items.length === 1 ? "" : "s"} on this page
        </span>
        <div className="flex gap-2">
          {filters.cursor ? (
            <Link href={`/${slug}/keys${query({})}`} className={buttonClasses("outline", "sm")}>
              First page
            </Link>
          ) : null}
          {page.nextCursor ? (
            <Link
              href={`/${slug}/keys${query({ cursor: page.nextCursor })}`}
              className={buttonClasses("outline", "sm")}
              data-testid="next-page"
            >
              Next page
            </Link>
          ) : null}
        </div>
      </nav>
    </>
  );
}

function TableSkeleton() {
  return (
    <div className="space-y-2" data-testid="keys-loading">
      <Skeleton className="h-10 w-full" />
      {Array.from({ length: 5 }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: static placeholders
        <Skeleton key={i} className="h-12 w-full" />
      ))}
    </div>
  );
}
