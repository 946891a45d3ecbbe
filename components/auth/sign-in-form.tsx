"use client";
import { signInAction } from "@/app/(auth)/actions";
import { SubmitButton } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/field";
import { useActionForm } from "@/components/ui/use-action-form";
import { EmailField, PasswordField } from "./auth-fields";

export function SignInForm({ callbackUrl }: { callbackUrl?: string }) {
  const { action, pending, errors, text, refusal } = useActionForm(signInAction);
  return (
    <form action={action} method="post" className="space-y-4" noValidate>
      {callbackUrl ? <input type="hidden" name="callbackUrl" value={callbackUrl} /> : null}
      <EmailField defaultValue={text("email")} error={errors.email} />
      <PasswordField autoComplete="current-password" error={errors.password} />
      <FormMessage>{refusal}</FormMessage>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Signing in…">
        Sign in
      </SubmitButton>
    </form>
  );
}
