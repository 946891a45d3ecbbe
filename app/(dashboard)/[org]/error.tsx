"use client";
import { Button } from "@/components/ui/button";

export default function OrgError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div role="alert" data-testid="page-error" className="mx-auto max-w-md py-16 text-center">
      <h1 className="text-xl font-semibold">Something went wrong</h1>
      <p className="mt-2 text-sm text-muted-foreground">
        The page could not be loaded. Try again; if it keeps failing, give the operator this
        reference: <code className="font-mono">{error.digest ?? "none"}</code>.
      </p>
      <Button className="mt-6" variant="outline" onClick={reset}>
        Try again
      </Button>
    </div>
  );
}
