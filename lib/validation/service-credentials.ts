// Service credential shapes (PRODUCT.md section 13): what the CLI takes and what it prints.
import { KeyNameSchema } from "./keys";
import { z } from "./zod";

/** What a service credential may hold. Only usage reporting exists today. */
export const SERVICE_SCOPES = ["usage:report"] as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[number];

export const ServiceCredentialNameSchema = KeyNameSchema;

export const ServiceScopesSchema = z
  .array(
    z.enum(SERVICE_SCOPES, {
      error: `A service credential's scopes: ${SERVICE_SCOPES.join(", ")}.`,
    }),
  )
  .min(1, "Give the credential at least one scope.")
  .refine((a) => new Set(a).size === a.length, "Scopes must not repeat.");
