// The email and password fields of the sign-in and sign-up forms, written once so both keep the
// same ids, names and autocomplete hints (password managers rely on them).
import type { ReactNode } from "react";
import { type FieldError, TextField } from "@/components/ui/field";

export function EmailField({ defaultValue, error }: { defaultValue?: string; error?: FieldError }) {
  return (
    <TextField
      id="email"
      name="email"
      label="Email"
      type="email"
      autoComplete="email"
      required
      defaultValue={defaultValue}
      error={error}
    />
  );
}

/** Never prefilled: a password does not come back from the server. */
export function PasswordField({
  autoComplete,
  error,
  hint,
}: {
  autoComplete: "current-password" | "new-password";
  error?: FieldError;
  hint?: ReactNode;
}) {
  return (
    <TextField
      id="password"
      name="password"
      label="Password"
      type="password"
      autoComplete={autoComplete}
      required
      error={error}
      hint={hint}
    />
  );
}
