"use client";
import { useActionState } from "react";
import { type AuthFormState, signUpAction } from "@/app/(auth)/actions";
import { SubmitButton } from "@/components/ui/button";
import { FormMessage, TextField } from "@/components/ui/field";
import { EmailField, PasswordField } from "./auth-fields";

export function SignUpForm() {
  const [state, action, pending] = useActionState<AuthFormState, FormData>(signUpAction, {
    ok: false,
  });
  const errors = state.fieldErrors ?? {};
  const v = state.values ?? {};
  return (
    <form action={action} method="post" className="space-y-4" noValidate>
      <TextField
        id="name"
        name="name"
        label="Your name"
        autoComplete="name"
        required
        defaultValue={v.name}
        error={errors.name}
      />
      <EmailField defaultValue={v.email} error={errors.email} />
      <PasswordField
        autoComplete="new-password"
        error={errors.password}
        hint="At least 10 characters. A passphrase works well."
      />
      <TextField
        id="organizationName"
        name="organizationName"
        label="Organization name"
        required
        defaultValue={v.organizationName}
        error={errors.organizationName}
        hint="Your team or company. You can rename it later."
      />
      <FormMessage>{state.message}</FormMessage>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Creating your account…">
        Create account
      </SubmitButton>
    </form>
  );
}
