// The usage event the recorder and writer suites send: a 429 every tenth, tokens and cost set.
import type { UsageEvent } from "@/lib/usage/event";

export const T0 = Date.UTC(2026, 10, 20, 12);

export function usageEvent(
  organizationId: string,
  apiKeyId: string,
  i: number,
  extra: Partial<UsageEvent> = {},
): UsageEvent {
  return {
    apiKeyId,
    organizationId,
    endpoint: "/api/v1/verify",
    method: "POST",
    statusCode: i % 10 === 0 ? 429 : 200,
    responseTimeMs: i % 50,
    tokens: 2,
    costUsd: "0.000123",
    ipAddress: "203.0.113.5",
    userAgent: "vitest",
    createdAt: new Date(T0 + i),
    ...extra,
  };
}
