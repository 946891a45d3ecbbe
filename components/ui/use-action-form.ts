"use client";
// The one client hook around React's useActionState for every form with a server action: the
// state, the pending flag, a refusal's field errors and typed-back values, and `onSuccess` (or
// a toast) once per outcome, not again on a re-render.
import { useActionState, useEffect, useRef } from "react";
import { toast } from "sonner";
import type { ActionState, FieldErrors, FormValues } from "@/app/(dashboard)/_lib/action-state";

type Success<S> = Extract<S, { ok: true }>;

export interface ActionFormOptions<S> {
  /** Run once for each successful state. */
  onSuccess?: (state: Success<S>) => void;
  /** Toast each outcome's message (a refusal's only when no field shows an error). */
  toasts?: boolean;
}

export function useActionForm<S extends ActionState>(
  serverAction: (prev: S, form: FormData) => Promise<S>,
  options: ActionFormOptions<S> = {},
) {
  const initial = { ok: false } as Awaited<S>;
  const [state, action, pending] = useActionState<S, FormData>(serverAction, initial);
  const handled = useRef<S | null>(null);
  const { onSuccess, toasts = false } = options;
  useEffect(() => {
    if (handled.current === state) return;
    handled.current = state;
    if (state.ok) onSuccess?.(state as Success<S>);
    if (toasts && state.message) {
      if (state.ok) toast.success(state.message);
      else if (!state.fieldErrors) toast.error(state.message);
    }
  }, [state, onSuccess, toasts]);
  const errors: FieldErrors = state.ok ? {} : (state.fieldErrors ?? {});
  const values: FormValues = state.ok ? {} : (state.values ?? {});
  /** A refusal's message for the form, when no field shows an error. */
  const refusal = !state.ok && !state.fieldErrors ? state.message : undefined;
  /** A typed-back text value, or `fallback`. */
  const text = (field: string, fallback = "") =>
    typeof values[field] === "string" ? (values[field] as string) : fallback;
  return { state, action, pending, errors, values, refusal, text };
}
