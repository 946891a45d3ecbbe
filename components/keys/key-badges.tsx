import { Badge } from "@/components/ui/badge";

export function EnvironmentBadge({ environment }: { environment: string }) {
  const live = environment.toLowerCase() === "live";
  return <Badge tone={live ? "info" : "warning"}>{live ? "live" : "test"}</Badge>;
}

export function StatusBadge({ status }: { status: string }) {
  const s = status.toLowerCase();
  const tone = s === "active" ? "success" : s === "revoked" ? "danger" : "neutral";
  return (
    <Badge tone={tone} data-testid="key-status">
      {s}
    </Badge>
  );
}

/** A key reported leaked (revoked or only flagged, per the organization's leak policy). */
export function LeakedBadge({ reportedAt }: { reportedAt: string }) {
  return (
    <Badge tone="danger" title={`Reported leaked ${reportedAt}`} data-testid="key-leaked">
      leaked
    </Badge>
  );
}
