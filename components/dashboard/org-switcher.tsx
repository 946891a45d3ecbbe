"use client";
// A disclosure listing the user's organizations; plain links, usable with the keyboard.
import { Check, ChevronsUpDown, Plus } from "lucide-react";
import Link from "next/link";
import { useEffect, useRef } from "react";

export function OrgSwitcher({
  current,
  organizations,
}: {
  current: { slug: string; name: string };
  organizations: Array<{ slug: string; name: string; role: string }>;
}) {
  const ref = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    const details = ref.current;
    if (!details) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && details.open) {
        details.open = false;
        details.querySelector("summary")?.focus();
      }
    };
    const onClick = (e: MouseEvent) => {
      if (details.open && !details.contains(e.target as Node)) details.open = false;
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("click", onClick);
    };
  }, []);
  return (
    <details ref={ref} className="relative" data-testid="org-switcher">
      <summary className="flex max-w-[12rem] cursor-pointer list-none items-center gap-1.5 rounded-md px-2 py-1.5 text-sm font-medium hover:bg-muted focus-visible:outline-2 focus-visible:outline-ring sm:max-w-xs [&::-webkit-details-marker]:hidden">
        <span className="truncate">{current.name}</span>
        <ChevronsUpDown className="size-4 shrink-0 text-muted-foreground" aria-hidden="true" />
        <span className="sr-only">Switch organization</span>
      </summary>
      <div className="absolute left-0 z-20 mt-1 w-64 rounded-md border border-border bg-card p-1 shadow-lg">
        <p className="px-2 py-1.5 text-xs font-medium text-muted-foreground">Organizations</p>
        <ul>
          {organizations.map((o) => (
            <li key={o.slug}>
              <Link
                href={`/${o.slug}/keys`}
                className="flex items-center justify-between gap-2 rounded px-2 py-1.5 text-sm hover:bg-muted focus-visible:outline-2 focus-visible:outline-ring"
                aria-current={o.slug === current.slug ? "true" : undefined}
              >
                <span className="truncate">{o.name}</span>
                <span className="flex items-center gap-1 text-xs text-muted-foreground">
                  {o.role.toLowerCase()}
                  {o.slug === current.slug ? (
                    <Check className="size-3.5" aria-hidden="true" />
                  ) : null}
                </span>
              </Link>
            </li>
          ))}
        </ul>
        <div className="mt-1 border-t border-border pt-1">
          <Link
            href="/organizations/new"
            className="flex items-center gap-2 rounded px-2 py-1.5 text-sm hover:bg-muted"
          >
            <Plus className="size-4" aria-hidden="true" /> New organization
          </Link>
        </div>
      </div>
    </details>
  );
}
