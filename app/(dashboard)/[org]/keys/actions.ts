"use server";
// Key mutations from the dashboard. Each action: session, membership and role first (ADMIN or
// OWNER), then zod, then the key service. The plaintext key is only in the create/rotate return
// value, for the dialog that shows it once.
import { revalidatePath } from "next/cache";
import { z } from "zod";
import {
  BudgetFieldsSchema,
  CidrLinesFieldSchema,
  EnvironmentSchema,
  ExpiryDateFieldSchema,
  ExternalIdFieldSchema,
  GracePeriodSchema,
  KeyNameSchema,
  KNOWN_SCOPES,
  MetaFieldSchema,
  RateLimitFieldSchema,
  RevokeReasonSchema,
  ScopesSchema,
} from "@/lib/validation/keys";
import { authorizeMember } from "../../_lib/access";
import { type ActionState, invalid, refused } from "../../_lib/action-state";
import { createKey, type KeyView, revokeKey, rotateKey, updateKey } from "../../_lib/data";

/** A key action's outcome; `key` (the plaintext, shown once) only after a create or a rotate. */
export type KeyActionState = ActionState<{ key?: string; apiKey: KeyView; message: string }>;

const BUDGET_FIELDS = [
  "credits",
  "creditsRefillAmount",
  "creditsRefillInterval",
  "spendLimitUsd",
] as const;

/** The credit and spend cap inputs (components/keys/credit-fields.tsx) as posted, or as shown. */
function budgetFormValues(
  form: FormData,
  suffix = "",
): Record<(typeof BUDGET_FIELDS)[number], string> {
  const get = (f: string) => String(form.get(`${f}${suffix}`) ?? "").trim();
  return {
    credits: get("credits"),
    creditsRefillAmount: get("creditsRefillAmount"),
    creditsRefillInterval: get("creditsRefillInterval") || "month",
    spendLimitUsd: get("spendLimitUsd"),
  };
}

const CreateKeyForm = z.object({
  name: KeyNameSchema,
  environment: EnvironmentSchema,
  // A new key from the dashboard holds built-in scopes only (the form offers no others).
  scopes: ScopesSchema.refine(
    (a) => a.every((s) => (KNOWN_SCOPES as readonly string[]).includes(s)),
    "Unknown scope.",
  ),
  expiresAt: ExpiryDateFieldSchema,
  rateLimitPerMinute: RateLimitFieldSchema,
  budget: BudgetFieldsSchema,
  allowedCidrs: CidrLinesFieldSchema,
  externalId: ExternalIdFieldSchema,
  meta: MetaFieldSchema,
});

/** The restriction fields as typed (textareas and an input), for parsing and showing back. */
const restrictionsOf = (form: FormData) => ({
  allowedCidrs: String(form.get("allowedCidrs") ?? ""),
  externalId: String(form.get("externalId") ?? ""),
  meta: String(form.get("meta") ?? ""),
});

export async function createKeyAction(
  _prev: KeyActionState,
  form: FormData,
): Promise<KeyActionState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const raw = {
    name: String(form.get("name") ?? ""),
    environment: String(form.get("environment") ?? ""),
    scopes: form.getAll("scopes").map(String),
    expiresAt: String(form.get("expiresAt") ?? ""),
    rateLimitPerMinute: String(form.get("rateLimitPerMinute") ?? ""),
    ...restrictionsOf(form),
  };
  const budget = budgetFormValues(form);
  const values = { ...raw, ...budget };
  const parsed = CreateKeyForm.safeParse({ ...raw, budget });
  if (!parsed.success) return invalid(flattenBudget(parsed.error), values);
  let created: Awaited<ReturnType<typeof createKey>>;
  try {
    const { budget: b, ...rest } = parsed.data;
    created = await createKey(
      { organizationId: access.ctx.organization.id, ...rest, ...b },
      access.actor,
    );
  } catch (e) {
    return refused(e, values);
  }
  revalidatePath(`/${access.ctx.organization.slug}/keys`);
  return { ok: true, key: created.key, apiKey: created.apiKey, message: "Key created." };
}

const RevokeKeyForm = z.object({
  keyId: z.uuid("Unknown key."),
  reason: RevokeReasonSchema.min(3, "Say why, in a few words (it goes into the audit log)."),
  confirm: z.literal("on", { error: "Tick the box to confirm." }),
});

export async function revokeKeyAction(
  _prev: KeyActionState,
  form: FormData,
): Promise<KeyActionState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const parsed = RevokeKeyForm.safeParse({
    keyId: form.get("keyId"),
    reason: form.get("reason") ?? "",
    confirm: form.get("confirm") ?? "",
  });
  if (!parsed.success) return invalid(parsed.error, { reason: String(form.get("reason") ?? "") });
  let apiKey: KeyView;
  try {
    apiKey = await revokeKey(
      access.ctx.organization.id,
      parsed.data.keyId,
      { reason: parsed.data.reason },
      access.actor,
    );
  } catch (e) {
    return refused(e);
  }
  revalidateKey(access.ctx.organization.slug, apiKey.id);
  return { ok: true, apiKey, message: `Key "${apiKey.name}" revoked.` };
}

/** The budget's issues under the form's own field names (`credits`, not `budget.credits`). */
function flattenBudget(error: z.ZodError): z.ZodError {
  return new z.ZodError(
    error.issues.map((i) => (i.path[0] === "budget" ? { ...i, path: i.path.slice(1) } : i)),
  );
}

function revalidateKey(slug: string, keyId: string) {
  revalidatePath(`/${slug}/keys`);
  revalidatePath(`/${slug}/keys/${keyId}`);
}

const RotateKeyForm = z.object({
  keyId: z.uuid("Unknown key."),
  gracePeriod: GracePeriodSchema,
});

export async function rotateKeyAction(
  _prev: KeyActionState,
  form: FormData,
): Promise<KeyActionState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const parsed = RotateKeyForm.safeParse({
    keyId: form.get("keyId"),
    gracePeriod: form.get("gracePeriod"),
  });
  if (!parsed.success) return invalid(parsed.error);
  let rotated: Awaited<ReturnType<typeof rotateKey>>;
  try {
    rotated = await rotateKey(
      access.ctx.organization.id,
      parsed.data.keyId,
      { gracePeriod: parsed.data.gracePeriod },
      access.actor,
    );
  } catch (e) {
    return refused(e);
  }
  revalidateKey(access.ctx.organization.slug, parsed.data.keyId);
  return { ok: true, key: rotated.key, apiKey: rotated.apiKey, message: "Key rotated." };
}

const UpdateKeyForm = z.object({
  keyId: z.uuid("Unknown key."),
  name: KeyNameSchema,
  // Built-in scopes and the key's own custom ones (the form lists both); the service checks again.
  scopes: ScopesSchema,
  rateLimitPerMinute: RateLimitFieldSchema,
  // Absent when it cannot change (a rotated key) or was left as it was shown.
  expiresAt: ExpiryDateFieldSchema.optional(),
  budget: BudgetFieldsSchema,
  allowedCidrs: CidrLinesFieldSchema,
  externalId: ExternalIdFieldSchema,
  meta: MetaFieldSchema,
});

export async function updateKeyAction(
  _prev: KeyActionState,
  form: FormData,
): Promise<KeyActionState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const expires = form.get("expiresAt");
  const shown = form.get("expiresAtShown");
  const scopes = form.getAll("scopes").map(String);
  const scopesShown = form.getAll("scopesShown").map(String);
  const sameScopes =
    scopes.length === scopesShown.length && scopes.every((s) => scopesShown.includes(s));
  const raw = {
    keyId: String(form.get("keyId") ?? ""),
    name: String(form.get("name") ?? ""),
    // The same set in another order is no change (and no audit entry): keep the key's order.
    scopes: sameScopes ? scopesShown : scopes,
    rateLimitPerMinute: String(form.get("rateLimitPerMinute") ?? ""),
    ...restrictionsOf(form),
    // An unchanged date is not sent: it would turn an exact expiry (say, the end of a grace
    // period set through the API) into the end of that day.
    expiresAt:
      typeof expires === "string" && expires.trim() !== String(shown ?? "").trim()
        ? expires
        : undefined,
  };
  const budget = budgetFormValues(form);
  const shownBudget = budgetFormValues(form, "Shown");
  const values = {
    ...raw,
    ...budget,
    expiresAt: typeof expires === "string" ? expires : undefined,
  };
  const parsed = UpdateKeyForm.safeParse({ ...raw, budget });
  if (!parsed.success) return invalid(flattenBudget(parsed.error), values);
  const { keyId, budget: b, ...input } = parsed.data;
  // Only what changed from what the dialog showed: a balance sent sets the live one, which
  // verifies may have moved since the page was drawn.
  const creditsChanged = BUDGET_FIELDS.some(
    (f) => f !== "spendLimitUsd" && budget[f] !== shownBudget[f],
  );
  const capChanged = budget.spendLimitUsd !== shownBudget.spendLimitUsd;
  let apiKey: KeyView;
  try {
    apiKey = await updateKey(
      access.ctx.organization.id,
      keyId,
      {
        ...input,
        ...(creditsChanged ? { credits: b.credits } : {}),
        ...(capChanged ? { spendLimitUsd: b.spendLimitUsd } : {}),
      },
      access.actor,
    );
  } catch (e) {
    return refused(e, values);
  }
  revalidateKey(access.ctx.organization.slug, apiKey.id);
  return { ok: true, apiKey, message: `Key "${apiKey.name}" saved.` };
}
