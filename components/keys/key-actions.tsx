"use client";
// Rotate and revoke for one key: each a dialog with its own form; rotation shows the new key once
// in the same dialog, with the same copy-once component as creation.
import { RefreshCw, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { revokeKeyAction, rotateKeyAction } from "@/app/(dashboard)/[org]/keys/actions";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Dialog, DialogFormFooter } from "@/components/ui/dialog";
import { errorProps, Field, FormMessage } from "@/components/ui/field";
import { fieldClasses } from "@/components/ui/input";
import { useActionForm } from "@/components/ui/use-action-form";
import {
  DEFAULT_GRACE_PERIOD,
  GRACE_PERIOD_LABELS,
  GRACE_PERIOD_NAMES,
  REVOKE_REASON_MAX,
} from "@/lib/validation/rules";
import { KeyFormIds } from "./key-form-ids";
import { confirmDiscardKey, KeyShownStep, useCopyOnceDialog } from "./key-secret";

interface KeyRef {
  id: string;
  name: string;
  prefix: string;
  hint: string;
}

export function KeyActions({
  slug,
  apiKey,
  canRotate,
  compact = false,
}: {
  slug: string;
  apiKey: KeyRef;
  canRotate: boolean;
  compact?: boolean;
}) {
  const [dialog, setDialog] = useState<"rotate" | "revoke" | null>(null);
  const once = useCopyOnceDialog();
  const open = (d: "rotate" | "revoke") => {
    once.reset();
    setDialog(d);
  };
  const size = compact ? "sm" : "md";
  return (
    <div className="flex justify-end gap-1.5">
      {canRotate ? (
        <Button
          variant="outline"
          size={size}
          onClick={() => open("rotate")}
          data-testid={`rotate-${apiKey.id}`}
          aria-label={`Rotate ${apiKey.name}`}
          title="Rotate"
        >
          <RefreshCw className="size-3.5" aria-hidden="true" />
          <span className={compact ? "sr-only 2xl:not-sr-only" : undefined}>Rotate</span>
        </Button>
      ) : null}
      <Button
        variant="outline"
        size={size}
        className="text-danger"
        onClick={() => open("revoke")}
        data-testid={`revoke-${apiKey.id}`}
        aria-label={`Revoke ${apiKey.name}`}
        title="Revoke"
      >
        <Trash2 className="size-3.5" aria-hidden="true" />
        <span className={compact ? "sr-only 2xl:not-sr-only" : undefined}>Revoke</span>
      </Button>

      <Dialog
        open={dialog === "rotate"}
        onOpenChange={(o) => setDialog(o ? "rotate" : null)}
        title={once.shown ? "Your new key" : `Rotate ${apiKey.name}`}
        description={
          once.shown
            ? undefined
            : "A new key replaces this one. The old key keeps working for the grace period you choose, so your services can switch over."
        }
        confirmClose={once.confirmClose}
        testId="rotate-key-dialog"
      >
        <RotateForm
          key={once.generation}
          slug={slug}
          apiKey={apiKey}
          copied={once.copied}
          onCopied={once.markCopied}
          onRotated={once.markShown}
          onClose={(force) => {
            if (force || confirmDiscardKey(once.copied)) setDialog(null);
          }}
        />
      </Dialog>

      <Dialog
        open={dialog === "revoke"}
        onOpenChange={(o) => setDialog(o ? "revoke" : null)}
        title={`Revoke ${apiKey.name}?`}
        description={`${apiKey.prefix}…${apiKey.hint} stops working at once, everywhere. This cannot be undone.`}
        testId="revoke-key-dialog"
      >
        <RevokeForm
          key={once.generation}
          slug={slug}
          apiKey={apiKey}
          onClose={() => setDialog(null)}
        />
      </Dialog>
    </div>
  );
}

function RotateForm({
  slug,
  apiKey,
  copied,
  onCopied,
  onRotated,
  onClose,
}: {
  slug: string;
  apiKey: KeyRef;
  copied: boolean;
  onCopied: () => void;
  onRotated: () => void;
  onClose: (force?: boolean) => void;
}) {
  const { state, action, pending, errors, refusal } = useActionForm(rotateKeyAction, {
    onSuccess: (s) => {
      onRotated();
      toast.success(s.message);
    },
  });
  if (state.ok && state.key) {
    return (
      <KeyShownStep
        secret={state.key}
        copied={copied}
        onCopied={onCopied}
        onDone={() => onClose()}
      />
    );
  }
  return (
    <form action={action} className="space-y-4">
      <KeyFormIds slug={slug} keyId={apiKey.id} />
      <fieldset>
        <legend className="mb-2 text-sm font-medium">Old key keeps working for</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {GRACE_PERIOD_NAMES.map((g) => (
            <label
              key={g}
              className="flex cursor-pointer gap-2 rounded-md border border-border p-2.5 text-sm has-checked:border-primary has-checked:bg-muted"
            >
              <input
                type="radio"
                name="gracePeriod"
                value={g}
                defaultChecked={g === DEFAULT_GRACE_PERIOD}
                className="mt-0.5 accent-primary"
              />
              <span>
                <span className="block font-medium">{GRACE_PERIOD_LABELS[g].label}</span>
                <span className="block text-xs text-muted-foreground">
                  {GRACE_PERIOD_LABELS[g].description}
                </span>
              </span>
            </label>
          ))}
        </div>
        {errors.gracePeriod ? (
          <p className="mt-1 text-xs text-danger">{errors.gracePeriod[0]}</p>
        ) : null}
      </fieldset>
      <FormMessage>{refusal}</FormMessage>
      <DialogFormFooter
        onCancel={() => onClose(true)}
        pending={pending}
        submitLabel="Rotate key"
        pendingLabel="Rotating…"
        submitTestId="rotate-submit"
      />
    </form>
  );
}

function RevokeForm({
  slug,
  apiKey,
  onClose,
}: {
  slug: string;
  apiKey: KeyRef;
  onClose: () => void;
}) {
  const { action, pending, errors, text, refusal } = useActionForm(revokeKeyAction, {
    onSuccess: (s) => {
      toast.success(s.message);
      onClose();
    },
  });
  return (
    <form action={action} className="space-y-4" noValidate>
      <KeyFormIds slug={slug} keyId={apiKey.id} />
      <Field id="revoke-reason" label="Reason" error={errors.reason} hint="Kept in the audit log.">
        <textarea
          id="revoke-reason"
          name="reason"
          rows={3}
          maxLength={REVOKE_REASON_MAX}
          required
          className={fieldClasses}
          defaultValue={text("reason")}
          {...errorProps("revoke-reason", errors.reason)}
        />
      </Field>
      <div>
        <Checkbox
          id="revoke-confirm"
          name="confirm"
          label="I understand that requests with this key will fail from now on."
        />
        {errors.confirm ? (
          <p data-testid="revoke-confirm-error" className="mt-1 text-xs text-danger">
            {errors.confirm[0]}
          </p>
        ) : null}
      </div>
      <FormMessage>{refusal}</FormMessage>
      <DialogFormFooter
        onCancel={onClose}
        pending={pending}
        submitLabel="Revoke key"
        pendingLabel="Revoking…"
        submitTestId="revoke-submit"
        variant="danger"
      />
    </form>
  );
}
