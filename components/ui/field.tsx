import type { ReactNode } from "react";
import { Label } from "./label";

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
  error?: string[] | string;
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
export function errorProps(id: string, error?: string[] | string) {
  const has = Array.isArray(error) ? error.length > 0 : Boolean(error);
  return has ? { "aria-invalid": true, "aria-describedby": `${id}-error` } : {};
}
