"use client";
// sonner's toaster, following the system colour scheme. Its rich colours come from the palette's
// tokens (app/globals.css), whose text pairs meet 4.5:1 in light and dark; sonner's own success
// green on its pale background does not (4.25:1).
import type { CSSProperties } from "react";
import { Toaster as Sonner } from "sonner";

const TOKENS = {
  "--normal-bg": "var(--color-card)",
  "--normal-text": "var(--color-foreground)",
  "--normal-border": "var(--color-border)",
  "--success-bg": "var(--color-success-subtle)",
  "--success-text": "var(--color-success)",
  "--success-border": "var(--color-success)",
  "--info-bg": "var(--color-info-subtle)",
  "--info-text": "var(--color-info)",
  "--info-border": "var(--color-info)",
  "--warning-bg": "var(--color-warning-subtle)",
  "--warning-text": "var(--color-warning)",
  "--warning-border": "var(--color-warning)",
  "--error-bg": "var(--color-danger-subtle)",
  "--error-text": "var(--color-danger)",
  "--error-border": "var(--color-danger)",
} as CSSProperties;

export function Toaster() {
  return <Sonner theme="system" position="bottom-right" richColors closeButton style={TOKENS} />;
}
