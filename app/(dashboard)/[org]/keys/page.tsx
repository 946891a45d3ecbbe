import { KeyRound } from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { CursorPagination } from "@/components/dashboard/cursor-pagination";
import { PageHeader } from "@/components/dashboard/page-header";
import { CreateKeyButton } from "@/components/keys/create-key-dialog";
import { KeyFilters } from "@/components/keys/key-filters";
import { KeysTable } from "@/components/keys/keys-table";
import { buttonClasses } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Skeleton } from "@/components/ui/skeleton";
import { canManage } from "@/lib/auth/roles";
import { ATTENTION_DAYS, type KeyFilterState, parseKeyFilters } from "@/lib/url-state/key-filters";
import { FIRST_PAGE, type PagePosition, parsePagePosition } from "@/lib/url-state/pagination";
import { KEY_NAME_MAX, KeySearchSchema } from "@/lib/validation/keys";
import { firstParam, type OrgPageProps, requireMemberPage } from "../../_lib/access";
import { listKeys } from "../../_lib/data";

export const metadata: Metadata = { title: "Keys · Keyward" };

type Search = KeyFilterState & { q?: string };

export default async function KeysPage(props: OrgPageProps) {
  const { organization, role, searchParams: sp } = await requireMemberPage(props);
  // A search no key name could match (too long, NUL, control characters) is ignored, and said so.
  const search = KeySearchSchema.safeParse(firstParam(sp.q) ?? "");
  const filters: Search = {
    ...parseKeyFilters(sp),
    q: (search.success && search.data) || undefined,
  };
  const position = parsePagePosition(firstParam(sp.cursor), firstParam(sp.back));
  const manage = canManage(role);
  return (
    <>
      <PageHeader
        title="API keys"
        description={`Keys for ${organization.name}. A key is shown once, when it is created or rotated.`}
        actions={
          manage ? (
            <CreateKeyButton
              slug={organization.slug}
              planRateLimit={organization.rateLimitPerMinute}
            />
          ) : null
        }
      />
      <KeyFilters
        environment={filters.env}
        status={filters.status}
        q={filters.q}
        externalId={filters.externalId}
        attention={filters.attention}
        error={
          search.success
            ? undefined
            : `The search was ignored: use at most ${KEY_NAME_MAX} characters and no control characters.`
        }
      />
      <Suspense key={JSON.stringify([filters, position])} fallback={<TableSkeleton />}>
        <KeysList
          slug={organization.slug}
          organizationId={organization.id}
          planRateLimit={organization.rateLimitPerMinute}
          filters={filters}
          position={position}
          manage={manage}
        />
      </Suspense>
    </>
  );
}

async function KeysList({
  slug,
  organizationId,
  planRateLimit,
  filters,
  position: requested,
  manage,
}: {
  slug: string;
  organizationId: string;
  planRateLimit: number;
  filters: Search;
  position: PagePosition;
  manage: boolean;
}) {
  const list = (cursor: string | undefined) =>
    listKeys(organizationId, {
      environment: filters.env,
      status: filters.status,
      search: filters.q,
      externalId: filters.externalId,
      attention: filters.attention,
      attentionDays: ATTENTION_DAYS,
      cursor,
    });
  let position = requested;
  let page: Awaited<ReturnType<typeof listKeys>>;
  try {
    page = await list(position.cursor);
  } catch (e) {
    // A cursor that does not decode: start from the first page.
    if ((e as { code?: string }).code !== "BAD_REQUEST" || !position.cursor) throw e;
    position = FIRST_PAGE;
    page = await list(undefined);
  }
  const filtered = Boolean(
    filters.env || filters.status || filters.q || filters.externalId || filters.attention,
  );
  if (page.items.length === 0 && !position.cursor) {
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
        action={manage ? <CreateKeyButton slug={slug} planRateLimit={planRateLimit} /> : null}
      />
    );
  }
  return (
    <>
      <KeysTable slug={slug} keys={page.items} canManage={manage} />
      <CursorPagination
        basePath={`/${slug}/keys`}
        filters={{ ...filters }}
        position={position}
        nextCursor={page.nextCursor}
        summary={`${page.items.length} key${page.items.length === 1 ? "" : "s"} on this page`}
      />
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
