// Status badges of webhook endpoints and deliveries (server and client).
import { Badge, type BadgeTone } from "@/components/ui/badge";

const DELIVERY_TONES: Record<string, BadgeTone> = {
  pending: "warning",
  delivered: "success",
  failed: "danger",
};

export function DeliveryStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={DELIVERY_TONES[status] ?? "neutral"} data-testid="delivery-status">
      {status}
    </Badge>
  );
}

export function EndpointStateBadge({
  enabled,
  disabledReason,
}: {
  enabled: boolean;
  disabledReason: string | null;
}) {
  if (enabled) return <Badge tone="success">enabled</Badge>;
  return (
    <Badge tone={disabledReason ? "danger" : "neutral"} data-testid="endpoint-disabled">
      {disabledReason === "failing" ? "disabled: failing for 3 days" : "disabled"}
    </Badge>
  );
}
