"use client";
import { useActionState } from "react";
import { type AuthFormState, signInAction } from "@/app/(auth)/actions";
import { Button } from "@/components/ui/button";
import { errorProps, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

export function SignInForm({ callbackUrl }: { callbackUrl?: string }) {
  const [state, action, pending] = useActionState<AuthFormState, FormData>(signInAction, {
    ok: false,
  });
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} method="post" className="space-y-4" noValidate>
      {callbackUrl ? <input type="hidden" name="callbackUrl" value={callbackUrl} /> : null}
      <Field id="email" label="Email" error={errors.email}>
        <Input
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          required
          defaultValue={state.values?.email}
          {...errorProps("email", errors.email)}
        />
      </Field>
      <Field id="password" label="Password" error={errors.password}>
        <Input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          {...errorProps("password", errors.password)}
        />
      </Field>
      {state.message ? (
        <p
          data-testid="form-message"
          role="status"
          className="rounded-md bg-red-50 px-3 py-2 text-sm text-danger dark:bg-red-950/40"
        >
          {state.message}
        </p>
      ) : null}
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}
