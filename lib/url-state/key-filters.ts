// The keys page's filters in its search params: environment, status, name search, external id and
// "needs attention" (expiring soon or unused). Pure; anything malformed is dropped, not trusted.
import { EXTERNAL_ID_MAX, EXTERNAL_ID_RE } from "@/lib/validation/rules";

export const KEY_ATTENTION = {
  expiring: "Expiring within 30 days",
  unused: "Unused for 30 days",
} as const;
export type KeyAttention = keyof typeof KEY_ATTENTION;
/** The window both "needs attention" filters look at, in days. */
export const ATTENTION_DAYS = 30;

export interface KeyFilterState {
  env?: "live" | "test";
  status?: "active" | "revoked" | "expired";
  externalId?: string;
  attention?: KeyAttention;
}

const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);

export function parseKeyFilters(sp: Record<string, unknown>): KeyFilterState {
  const env = first(sp.env);
  const status = first(sp.status);
  const ext = first(sp.externalId);
  const attention = first(sp.attention);
  return {
    env: env === "live" || env === "test" ? env : undefined,
    status:
      status === "active" || status === "revoked" || status === "expired" ? status : undefined,
    externalId:
      typeof ext === "string" && ext.length <= EXTERNAL_ID_MAX && EXTERNAL_ID_RE.test(ext)
        ? ext
        : undefined,
    attention:
      typeof attention === "string" && Object.hasOwn(KEY_ATTENTION, attention)
        ? (attention as KeyAttention)
        : undefined,
  };
}
