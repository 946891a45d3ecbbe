"use client";
// A modal on the native <dialog>: showModal() makes the page behind inert (focus stays inside),
// Esc and a click on the backdrop ask to close, and focus returns to where it was on close.
// `confirmClose` lets a caller refuse or confirm closing (the copy-once key dialog does).
import { X } from "lucide-react";
import { type ReactNode, useCallback, useEffect, useId, useRef } from "react";
import { Button, SubmitButton } from "./button";
import { cn } from "./cn";

export interface DialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  /** Return false to keep the dialog open when the user tries to close it. */
  confirmClose?: () => boolean;
  className?: string;
  testId?: string;
}

export function Dialog({
  open,
  onOpenChange,
  title,
  description,
  children,
  confirmClose,
  className,
  testId,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const returnFocus = useRef<HTMLElement | null>(null);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      returnFocus.current = document.activeElement as HTMLElement | null;
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
      returnFocus.current?.focus?.();
      returnFocus.current = null;
    }
  }, [open]);

  // Close on unmount while open, so the page does not stay inert.
  useEffect(() => {
    const dialog = ref.current;
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, []);

  const requestClose = useCallback(() => {
    if (confirmClose && !confirmClose()) return;
    onOpenChange(false);
  }, [confirmClose, onOpenChange]);

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard closes it with Esc (cancel event)
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        requestClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) requestClose();
      }}
      className={cn(
        "m-auto w-[calc(100%-2rem)] max-w-lg rounded-lg border border-border bg-card p-0 text-foreground shadow-xl",
        "backdrop:bg-overlay",
        className,
      )}
    >
      {open ? (
        <div className="relative p-5">
          <button
            type="button"
            onClick={requestClose}
            aria-label="Close"
            className="absolute right-3 top-3 rounded-md p-1 text-muted-foreground hover:bg-muted focus-visible:outline-2 focus-visible:outline-ring"
          >
            <X className="size-4" aria-hidden="true" />
          </button>
          <h2 id={titleId} className="pr-8 text-lg font-semibold">
            {title}
          </h2>
          {description ? (
            <p id={descriptionId} className="mt-1 text-sm text-muted-foreground">
              {description}
            </p>
          ) : null}
          <div className="mt-4">{children}</div>
        </div>
      ) : null}
    </dialog>
  );
}

/** A dialog form's buttons: Cancel, and the submit button (disabled and relabelled while pending). */
export function DialogFormFooter({
  onCancel,
  pending,
  submitLabel,
  pendingLabel,
  submitTestId,
  variant = "primary",
}: {
  onCancel: () => void;
  pending: boolean;
  submitLabel: ReactNode;
  pendingLabel: ReactNode;
  submitTestId?: string;
  variant?: "primary" | "danger";
}) {
  return (
    <div className="flex justify-end gap-2">
      <Button variant="ghost" onClick={onCancel}>
        Cancel
      </Button>
      <SubmitButton
        variant={variant}
        pending={pending}
        pendingLabel={pendingLabel}
        data-testid={submitTestId}
      >
        {submitLabel}
      </SubmitButton>
    </div>
  );
}
