"use client";
import { signUpAction } from "@/app/(auth)/actions";
import { SubmitButton } from "@/components/ui/button";
import { FormMessage, TextField } from "@/components/ui/field";
import { useActionForm } from "@/components/ui/use-action-form";
import { EmailField, PasswordField } from "./auth-fields";

export function SignUpForm() {
  const { action, pending, errors, text, refusal } = useActionForm(signUpAction);
  return (
    <form action={action} method="post" className="space-y-4" noValidate>
      <TextField
        id="name"
        name="name"
        label="Your name"
        autoComplete="name"
        required
        defaultValue={text("name")}
        error={errors.name}
      />
      <EmailField defaultValue={text("email")} error={errors.email} />
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
        defaultValue={text("organizationName")}
        error={errors.organizationName}
        hint="Your team or company. You can rename it later."
      />
      <FormMessage>{refusal}</FormMessage>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Creating your account…">
        Create account
      </SubmitButton>
    </form>
  );
}
