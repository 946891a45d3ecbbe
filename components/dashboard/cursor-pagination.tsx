// First / Previous / Next under a cursor-paginated list (keys, audit log), like Stripe's: the
// buttons keep their places, a missing direction is shown disabled, and the page number is said.
import { ChevronLeft, ChevronRight, ChevronsLeft } from "lucide-react";
import Link from "next/link";
import type { ReactNode } from "react";
import { buttonClasses } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { type PagePosition, pageLinks } from "@/lib/url-state/pagination";

function href(basePath: string, filters: Record<string, string | undefined>, extra: object) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `${basePath}?${s}` : basePath;
}

function PageButton({
  to,
  children,
  label,
  testId,
}: {
  to: string | null;
  children: ReactNode;
  label: string;
  testId: string;
}) {
  const classes = cn(buttonClasses("outline", "sm"), "gap-1");
  if (!to) {
    return (
      <span
        className={cn(classes, "pointer-events-none opacity-50")}
        aria-disabled="true"
        data-testid={testId}
      >
        {children}
      </span>
    );
  }
  return (
    <Link href={to} className={classes} aria-label={label} data-testid={testId}>
      {children}
    </Link>
  );
}

export function CursorPagination({
  basePath,
  filters,
  position,
  nextCursor,
  summary,
}: {
  basePath: string;
  /** The list's own search params (filters), kept on every link. */
  filters: Record<string, string | undefined>;
  position: PagePosition;
  nextCursor: string | null;
  /** E.g. "20 keys on this page". */
  summary: ReactNode;
}) {
  const links = pageLinks(position, nextCursor);
  const to = (q: Record<string, string> | null) => (q ? href(basePath, filters, q) : null);
  return (
    <nav
      aria-label="Pagination"
      className="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm"
    >
      <span className="text-muted-foreground" data-testid="page-summary">
        {position.page ? `Page ${position.page} · ` : ""}
        {summary}
      </span>
      <div className="flex gap-2">
        {links.first ? (
          <PageButton to={to(links.first)} label="First page" testId="first-page">
            <ChevronsLeft className="size-4" aria-hidden="true" />
            <span className="hidden sm:inline">First page</span>
          </PageButton>
        ) : null}
        <PageButton to={to(links.previous)} label="Previous page" testId="previous-page">
          <ChevronLeft className="size-4" aria-hidden="true" /> Previous
        </PageButton>
        <PageButton to={to(links.next)} label="Next page" testId="next-page">
          Next <ChevronRight className="size-4" aria-hidden="true" />
        </PageButton>
      </div>
    </nav>
  );
}
