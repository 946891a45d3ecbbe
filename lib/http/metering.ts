// Every /api/v1 call that can be tied to a key is metered through the usage recorder: buffered
// off the request path, written in batches, flushed at shutdown, never failing the request.
import { getUsageRecorder } from "@/lib/services/usage-recorder";
import type { UsageEvent } from "@/lib/usage/event";

/** Records one event; true when the recorder kept it (false: malformed, intake full or closed). */
export function meter(event: UsageEvent): boolean {
  try {
    return getUsageRecorder().record(event);
  } catch {
    // metering never fails a request
    return false;
  }
}
