// On a key's page: the key was reported leaked, when, where, and what that did.
import type { KeyView } from "@/app/(dashboard)/_lib/data";
import { Card, CardContent } from "@/components/ui/card";
import { LEAK_REVOKE_REASON } from "@/lib/validation/rules";
import { formatDateTime } from "./format";

export function KeyLeakNotice({ apiKey: k }: { apiKey: KeyView }) {
  if (!k.leak) return null;
  const { leak } = k;
  const revoked = k.status === "revoked" && k.revokedReason === LEAK_REVOKE_REASON;
  return (
    <Card className="mb-4 border-danger" data-testid="key-leak">
      <CardContent className="pt-4 text-sm">
        <p className="font-semibold text-danger">
          Reported leaked {formatDateTime(leak.reportedAt)}
        </p>
        <dl className="mt-2 grid gap-1 sm:grid-cols-[8rem_1fr]">
          <dt className="text-muted-foreground">Source</dt>
          <dd data-testid="key-leak-source">{leak.source ?? "not given"}</dd>
          <dt className="text-muted-foreground">Seen at</dt>
          <dd className="break-all" data-testid="key-leak-url">
            {leak.url ? (
              <a
                href={leak.url}
                rel="noopener noreferrer nofollow"
                target="_blank"
                className="text-primary hover:underline"
              >
                {leak.url}
              </a>
            ) : (
              "not given"
            )}
          </dd>
        </dl>
        <p className="mt-2 text-muted-foreground">
          {revoked
            ? "It was revoked at once, as the organization's leak policy says."
            : k.status === "active"
              ? "The leak policy only flags keys: it still works. Rotate or revoke it now."
              : "It no longer works."}
        </p>
      </CardContent>
    </Card>
  );
}
