"use client";
import { Activity, KeyRound, ScrollText, Settings } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "@/components/ui/cn";

const ITEMS = [
  { segment: "keys", label: "Keys", icon: KeyRound },
  { segment: "usage", label: "Usage", icon: Activity },
  { segment: "audit", label: "Audit log", icon: ScrollText },
  { segment: "settings", label: "Settings", icon: Settings },
] as const;

export function OrgNav({ slug }: { slug: string }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Organization" className="-mb-px flex gap-1 overflow-x-auto">
      {ITEMS.map(({ segment, label, icon: Icon }) => {
        const href = `/${slug}/${segment}`;
        const active = pathname === href || pathname.startsWith(`${href}/`);
        return (
          <Link
            key={segment}
            href={href}
            aria-current={active ? "page" : undefined}
            className={cn(
              "flex items-center gap-1.5 whitespace-nowrap border-b-2 px-3 py-2.5 text-sm font-medium",
              "focus-visible:outline-2 focus-visible:outline-ring",
              active
                ? "border-primary text-foreground"
                : "border-transparent text-muted-foreground hover:text-foreground",
            )}
          >
            <Icon className="hidden size-4 sm:block" aria-hidden="true" />
            {label}
          </Link>
        );
      })}
    </nav>
  );
}
