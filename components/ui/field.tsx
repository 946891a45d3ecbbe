import type { InputHTMLAttributes, ReactNode } from "react";
import { Input } from "./input";
import { Label } from "./label";

/** A field's error: zod's list of messages (the first is shown) or one message. */
export type FieldError = string[] | string | undefined;

/** A label, a control and the field's error message (tied with aria-describedby by the caller). */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: ReactNode;
  error?: FieldError;
  hint?: ReactNode;
  children: ReactNode;
}) {
  const message = Array.isArray(error) ? error[0] : error;
  return (
    <div className="space-y-1.5">
      <Label htmlFor={id}>{label}</Label>
      {children}
      {hint && !message ? <p className="text-xs text-muted-foreground">{hint}</p> : null}
      {message ? (
        <p id={`${id}-error`} data-testid={`${id}-error`} className="text-xs text-danger">
          {message}
        </p>
      ) : null}
    </div>
  );
}

/** Props that connect a control to its Field's error. */
export function errorProps(id: string, error?: FieldError) {
  const has = Array.isArray(error) ? error.length > 0 : Boolean(error);
  return has ? { "aria-invalid": true, "aria-describedby": `${id}-error` } : {};
}

export type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id"> & {
  id: string;
  label: ReactNode;
  error?: FieldError;
  hint?: ReactNode;
};

/** A labelled input with its hint and error: Field, Input and errorProps wired together. */
export function TextField({ id, label, error, hint, ...input }: TextFieldProps) {
  return (
    <Field id={id} label={label} error={error} hint={hint}>
      <Input id={id} {...input} {...errorProps(id, error)} />
    </Field>
  );
}

/** A message about the whole form (not one field), e.g. "Wrong email or password." */
export function FormMessage({ children }: { children?: ReactNode }) {
  if (!children) return null;
  return (
    <p
      data-testid="form-message"
      role="status"
      className="rounded-md bg-danger-subtle px-3 py-2 text-sm text-danger"
    >
      {children}
    </p>
  );
}
