import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";

/**
 * The dashboard's one not-found answer, for a missing page and for another organization's alike
 * (so ids cannot be probed). `as="main"` where no layout gives the page its <main>.
 */
export function NotFoundMessage({ as: Tag = "div" }: { as?: "div" | "main" }) {
  return (
    <Tag data-testid="not-found" className="mx-auto max-w-md px-4 py-16 text-center">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        This page does not exist, or you are not a member of the organization it belongs to.
      </p>
      <Link href="/dashboard" className={`${buttonClasses("outline")} mt-6`}>
        Back to your dashboard
      </Link>
    </Tag>
  );
}
