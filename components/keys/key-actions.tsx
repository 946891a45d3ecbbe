"use client";
// Rotate and revoke for one key: each a dialog with its own form; rotation shows the new key once
// in the same dialog, with the same copy-once component as creation.
import { RefreshCw, Trash2 } from "lucide-react";
import { useActionState, useEffect, useRef, useState } from "react";
import { toast } from "sonner";
import {
  type KeyActionState,
  revokeKeyAction,
  rotateKeyAction,
} from "@/app/(dashboard)/[org]/keys/actions";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Dialog } from "@/components/ui/dialog";
import { errorProps, Field } from "@/components/ui/field";
import { fieldClasses } from "@/components/ui/input";
import { confirmDiscardKey, KeySecret } from "./key-secret";

interface KeyRef {
  id: string;
  name: string;
  prefix: string;
  hint: string;
}

function useOnSuccess(
  state: KeyActionState,
  run: (s: Extract<KeyActionState, { ok: true }>) => void,
) {
  const handled = useRef<KeyActionState | null>(null);
  useEffect(() => {
    if (state.ok && handled.current !== state) {
      handled.current = state;
      run(state);
    }
  }, [state, run]);
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
  const [generation, setGeneration] = useState(0);
  const [copied, setCopied] = useState(false);
  const [shown, setShown] = useState(false);
  const open = (d: "rotate" | "revoke") => {
    setGeneration((g) => g + 1);
    setCopied(false);
    setShown(false);
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
        title={shown ? "Your new key" : `Rotate ${apiKey.name}`}
        description={
          shown
            ? undefined
            : "A new key replaces this one. The old key keeps working for the grace period you choose, so your services can switch over."
        }
        confirmClose={() => !shown || confirmDiscardKey(copied)}
        testId="rotate-key-dialog"
      >
        <RotateForm
          key={generation}
          slug={slug}
          apiKey={apiKey}
          copied={copied}
          onCopied={() => setCopied(true)}
          onRotated={() => setShown(true)}
          onClose={(force) => {
            if (force || confirmDiscardKey(copied)) setDialog(null);
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
        <RevokeForm key={generation} slug={slug} apiKey={apiKey} onClose={() => setDialog(null)} />
      </Dialog>
    </div>
  );
}

const GRACE = [
  { value: "none", label: "Now", description: "The old key stops working at once." },
  { value: "1h", label: "1 hour", description: "Time to redeploy one service." },
  { value: "24h", label: "24 hours", description: "The usual choice." },
  { value: "7d", label: "7 days", description: "For clients you do not control." },
] as const;

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
  const [state, action, pending] = useActionState<KeyActionState, FormData>(rotateKeyAction, {
    ok: false,
  });
  useOnSuccess(state, (s) => {
    onRotated();
    toast.success(s.message);
  });
  if (state.ok && state.key) {
    return (
      <div className="space-y-4">
        <KeySecret secret={state.key} copied={copied} onCopied={onCopied} />
        <div className="flex justify-end">
          <Button
            variant={copied ? "primary" : "outline"}
            onClick={() => onClose()}
            data-testid="key-done"
          >
            {copied ? "Done" : "I have stored it, close"}
          </Button>
        </div>
      </div>
    );
  }
  const errors = state.ok ? {} : (state.fieldErrors ?? {});
  return (
    <form action={action} className="space-y-4">
      <input type="hidden" name="org" value={slug} />
      <input type="hidden" name="keyId" value={apiKey.id} />
      <fieldset>
        <legend className="mb-2 text-sm font-medium">Old key keeps working for</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {GRACE.map((g) => (
            <label
              key={g.value}
              className="flex cursor-pointer gap-2 rounded-md border border-border p-2.5 text-sm has-checked:border-primary has-checked:bg-muted"
            >
              <input
                type="radio"
                name="gracePeriod"
                value={g.value}
                defaultChecked={g.value === "24h"}
                className="mt-0.5 accent-primary"
              />
              <span>
                <span className="block font-medium">{g.label}</span>
                <span className="block text-xs text-muted-foreground">{g.description}</span>
              </span>
            </label>
          ))}
        </div>
        {errors.gracePeriod ? (
          <p className="mt-1 text-xs text-danger">{errors.gracePeriod[0]}</p>
        ) : null}
      </fieldset>
      {!state.ok && state.message ? (
        <p data-testid="form-message" className="text-sm text-danger">
          {state.message}
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button variant="ghost" onClick={() => onClose(true)}>
          Cancel
        </Button>
        <Button type="submit" disabled={pending} data-testid="rotate-submit">
          {pending ? "Rotating…" : "Rotate key"}
        </Button>
      </div>
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
  const [state, action, pending] = useActionState<KeyActionState, FormData>(revokeKeyAction, {
    ok: false,
  });
  useOnSuccess(state, (s) => {
    toast.success(s.message);
    onClose();
  });
  const errors = state.ok ? {} : (state.fieldErrors ?? {});
  const values = state.ok ? {} : (state.values ?? {});
  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={slug} />
      <input type="hidden" name="keyId" value={apiKey.id} />
      <Field id="revoke-reason" label="Reason" error={errors.reason} hint="Kept in the audit log.">
        <textarea
          id="revoke-reason"
          name="reason"
          rows={3}
          maxLength={500}
          required
          className={fieldClasses}
          defaultValue={typeof values.reason === "string" ? values.reason : ""}
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
      {!state.ok && state.message && !state.fieldErrors ? (
        <p data-testid="form-message" className="text-sm text-danger">
          {state.message}
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button variant="ghost" onClick={onClose}>
          Cancel
        </Button>
        <Button type="submit" variant="danger" disabled={pending} data-testid="revoke-submit">
          {pending ? "Revoking…" : "Revoke key"}
        </Button>
      </div>
    </form>
  );
}
