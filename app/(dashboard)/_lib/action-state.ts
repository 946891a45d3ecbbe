// What every server action of the dashboard and the sign-in pages returns, and the two ways a
// refusal is made: from a zod error (the form's own fields) or from a KeywardError the service
// threw (its issue paths, cut to the form field they start with). The client side is
// components/ui/use-action-form.ts.
import { z } from "zod";
import { isKeywardError } from "@/lib/errors";

export type FieldErrors = Record<string, string[] | undefined>;
export type FormValues = Record<string, unknown>;

export type ActionFailure = {
  ok: false;
  message?: string;
  fieldErrors?: FieldErrors;
  /** What was typed, to show again (never a password or a key). */
  values?: FormValues;
};

export type ActionState<Success extends object = object> =
  | ActionFailure
  | ({ ok: true; message?: string } & Success);

/** A form's own fields refused by zod. */
export function invalid(error: z.ZodError, values?: FormValues): ActionFailure {
  return { ok: false, fieldErrors: z.flattenError(error).fieldErrors, values };
}

/**
 * A service's refusal: its message, and its issues as field errors (path `scopes.0` is the field
 * `scopes`); forms show the message only when no field shows an error. Anything that is not a
 * KeywardError is not a refusal and is thrown on.
 */
export function refused(e: unknown, values?: FormValues): ActionFailure {
  if (!isKeywardError(e)) throw e;
  if (!e.issues?.length) return { ok: false, message: e.message, values };
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of e.issues) {
    const field = issue.path.split(".")[0] || "form";
    fieldErrors[field] = [...(fieldErrors[field] ?? []), issue.message];
  }
  return { ok: false, message: e.message, fieldErrors, values };
}
