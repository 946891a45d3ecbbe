// Every /api/v1 call that can be tied to a key is metered: off the request path, never failing it.
export interface MeterEvent {
  apiKeyId: string;
  organizationId: string;
  endpoint: string;
  method: string;
  statusCode: number;
  responseTimeMs: number;
  ipAddress?: string | null;
  userAgent?: string | null;
  errorCode?: string | null;
}

export function meter(_event: MeterEvent): void {
  // Wired to the usage recorder once lib/services/usage-recorder.ts lands.
}
