"use client";
import { useActionState } from "react";
import { type AuthFormState, signInAction } from "@/app/(auth)/actions";
import { SubmitButton } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/field";
import { EmailField, PasswordField } from "./auth-fields";

export function SignInForm({ callbackUrl }: { callbackUrl?: string }) {
  const [state, action, pending] = useActionState<AuthFormState, FormData>(signInAction, {
    ok: false,
  });
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} method="post" className="space-y-4" noValidate>
      {callbackUrl ? <input type="hidden" name="callbackUrl" value={callbackUrl} /> : null}
      <EmailField defaultValue={state.values?.email} error={errors.email} />
      <PasswordField autoComplete="current-password" error={errors.password} />
      <FormMessage>{state.message}</FormMessage>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Signing in…">
        Sign in
      </SubmitButton>
    </form>
  );
}
