"use client";
import { useActionState } from "react";
import { type AuthFormState, signUpAction } from "@/app/(auth)/actions";
import { Button } from "@/components/ui/button";
import { errorProps, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

export function SignUpForm() {
  const [state, action, pending] = useActionState<AuthFormState, FormData>(signUpAction, {
    ok: false,
  });
  const errors = state.fieldErrors ?? {};
  const v = state.values ?? {};
  return (
    <form action={action} method="post" className="space-y-4" noValidate>
      <Field id="name" label="Your name" error={errors.name}>
        <Input
          id="name"
          name="name"
          autoComplete="name"
          required
          defaultValue={v.name}
          {...errorProps("name", errors.name)}
        />
      </Field>
      <Field id="email" label="Email" error={errors.email}>
        <Input
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          required
          defaultValue={v.email}
          {...errorProps("email", errors.email)}
        />
      </Field>
      <Field
        id="password"
        label="Password"
        error={errors.password}
        hint="At least 10 characters. A passphrase works well."
      >
        <Input
          id="password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          {...errorProps("password", errors.password)}
        />
      </Field>
      <Field
        id="organizationName"
        label="Organization name"
        error={errors.organizationName}
        hint="Your team or company. You can rename it later."
      >
        <Input
          id="organizationName"
          name="organizationName"
          required
          defaultValue={v.organizationName}
          {...errorProps("organizationName", errors.organizationName)}
        />
      </Field>
      {state.message ? (
        <p data-testid="form-message" role="status" className="text-sm text-danger">
          {state.message}
        </p>
      ) : null}
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Creating your account…" : "Create account"}
      </Button>
    </form>
  );
}
