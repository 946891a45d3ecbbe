import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";

export default function NotFound() {
  return (
    <div data-testid="not-found" className="mx-auto max-w-md py-16 text-center">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        This page does not exist, or you are not a member of the organization it belongs to.
      </p>
      <Link href="/dashboard" className={`${buttonClasses("outline")} mt-6`}>
        Back to your dashboard
      </Link>
    </div>
  );
}
