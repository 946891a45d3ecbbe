import type { InputHTMLAttributes } from "react";
import { cn } from "./cn";

/** Without size: callers (or the defaults below) give width and height. */
export const fieldBase =
  "block rounded-md border border-input bg-background px-3 py-2 text-sm " +
  "placeholder:text-muted-foreground focus-visible:outline-2 focus-visible:outline-offset-1 " +
  "focus-visible:outline-ring disabled:opacity-50 aria-invalid:border-danger";

export const fieldClasses = `${fieldBase} w-full`;

/** `w-full` and `h-10` unless the caller's classes set a width or height of their own. */
export function sized(className: string | undefined, height = "h-10"): string {
  const tokens = (className ?? "").split(/\s+/);
  const hasWidth = tokens.some((t) => /^(w-|min-w-|max-w-)/.test(t));
  const hasHeight = tokens.some((t) => /^h-/.test(t));
  return cn(fieldBase, !hasWidth && "w-full", !hasHeight && height, className);
}

export function Input({ className, ...props }: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={sized(className)} {...props} />;
}
