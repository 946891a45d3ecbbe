"use client";
import { Plus } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { createKeyAction } from "@/app/(dashboard)/[org]/keys/actions";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Dialog, DialogFormFooter } from "@/components/ui/dialog";
import { errorProps, Field, FormMessage, TextField } from "@/components/ui/field";
import { Select } from "@/components/ui/select";
import { useActionForm } from "@/components/ui/use-action-form";
import {
  BUILT_IN_SCOPES,
  ENVIRONMENT_LABELS,
  ENVIRONMENTS,
  firstExpiryDay,
  KEY_NAME_MAX,
} from "@/lib/validation/rules";
import { CreditFields } from "./credit-fields";
import { confirmDiscardKey, KeyShownStep, useCopyOnceDialog } from "./key-secret";
import { RestrictionFields } from "./restriction-fields";

const BUILT_IN: ReadonlySet<string> = new Set(BUILT_IN_SCOPES.map((s) => s.value));

/**
 * Scope checkboxes named `scopes`, for the create and edit forms: the built-in scopes, then any
 * custom ones in `custom` or `chosen` (a key's own, so that editing it does not drop them).
 */
export function ScopeCheckboxes({
  chosen,
  custom = [],
  error,
}: {
  chosen: string[];
  custom?: string[];
  error?: string[];
}) {
  const extra = [...new Set([...custom, ...chosen])].filter((s) => !BUILT_IN.has(s));
  const options = [
    ...BUILT_IN_SCOPES,
    ...extra.map((value) => ({ value, description: "Custom scope" })),
  ];
  return (
    <fieldset className="space-y-2">
      <legend className="mb-1.5 text-sm font-medium">Scopes</legend>
      <div className="grid gap-2 sm:grid-cols-2">
        {options.map((s) => (
          <Checkbox
            key={s.value}
            id={`scope-${s.value}`}
            name="scopes"
            value={s.value}
            defaultChecked={chosen.includes(s.value)}
            label={<code className="font-mono text-xs">{s.value}</code>}
            description={s.description}
          />
        ))}
      </div>
      {error?.length ? (
        <p data-testid="key-scopes-error" className="text-xs text-danger">
          {error[0]}
        </p>
      ) : null}
    </fieldset>
  );
}

export function CreateKeyButton({ slug, planRateLimit }: { slug: string; planRateLimit: number }) {
  const [open, setOpen] = useState(false);
  // A new form (and a fresh action state) each time the dialog opens; closing drops the key.
  const once = useCopyOnceDialog();
  return (
    <>
      <Button
        data-testid="create-key"
        onClick={() => {
          once.reset();
          setOpen(true);
        }}
      >
        <Plus className="size-4" aria-hidden="true" /> Create key
      </Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        title={once.shown ? "Your new key" : "Create a key"}
        description={
          once.shown ? undefined : "Keys authenticate your services. You choose what each may do."
        }
        confirmClose={once.confirmClose}
        testId="create-key-dialog"
      >
        <CreateKeyForm
          key={once.generation}
          slug={slug}
          planRateLimit={planRateLimit}
          copied={once.copied}
          onCopied={once.markCopied}
          onCreated={once.markShown}
          onDone={() => {
            if (confirmDiscardKey(once.copied)) setOpen(false);
          }}
          onCancel={() => setOpen(false)}
        />
      </Dialog>
    </>
  );
}

/** The per-key rate limit input of the create and edit forms; the plan's limit is its maximum. */
export function RateLimitField({
  id,
  planRateLimit,
  defaultValue,
  error,
}: {
  id: string;
  planRateLimit: number;
  defaultValue: string;
  error?: string[];
}) {
  return (
    <TextField
      id={id}
      name="rateLimitPerMinute"
      label="Rate limit (requests per minute)"
      type="number"
      inputMode="numeric"
      min={1}
      max={planRateLimit}
      step={1}
      placeholder="Plan default"
      defaultValue={defaultValue}
      error={error}
      hint={`Leave empty for the plan's limit (${planRateLimit.toLocaleString("en-US")} per minute), the most a key can have.`}
    />
  );
}

function CreateKeyForm({
  slug,
  planRateLimit,
  copied,
  onCopied,
  onCreated,
  onDone,
  onCancel,
}: {
  slug: string;
  planRateLimit: number;
  copied: boolean;
  onCopied: () => void;
  onCreated: () => void;
  onDone: () => void;
  onCancel: () => void;
}) {
  const { state, action, pending, errors, values, text, refusal } = useActionForm(createKeyAction, {
    onSuccess: (created) => {
      onCreated();
      toast.success(created.message);
    },
  });

  if (state.ok && state.key) {
    return (
      <KeyShownStep secret={state.key} copied={copied} onCopied={onCopied} onDone={onDone}>
        <p className="text-sm">
          <span className="font-medium">{state.apiKey.name}</span> ({state.apiKey.environment}) is
          ready.
        </p>
      </KeyShownStep>
    );
  }

  const chosenScopes = Array.isArray(values.scopes) ? (values.scopes as string[]) : ["keys:read"];
  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={slug} />
      <TextField
        id="key-name"
        name="name"
        label="Name"
        required
        maxLength={KEY_NAME_MAX}
        autoComplete="off"
        defaultValue={text("name")}
        error={errors.name}
        hint="Where it is used, e.g. billing-service."
      />
      <Field id="key-environment" label="Environment" error={errors.environment}>
        <Select
          id="key-environment"
          name="environment"
          defaultValue={text("environment", "live")}
          {...errorProps("key-environment", errors.environment)}
        >
          {ENVIRONMENTS.map((env) => (
            <option key={env} value={env}>
              {ENVIRONMENT_LABELS[env]}
            </option>
          ))}
        </Select>
      </Field>
      <ScopeCheckboxes chosen={chosenScopes} error={errors.scopes} />
      <TextField
        id="key-expires"
        name="expiresAt"
        label="Expires (optional)"
        type="date"
        min={firstExpiryDay()}
        defaultValue={text("expiresAt")}
        error={errors.expiresAt}
        hint="End of that day, UTC. Leave empty for no expiry."
      />
      <RateLimitField
        id="key-rate-limit"
        planRateLimit={planRateLimit}
        defaultValue={text("rateLimitPerMinute")}
        error={errors.rateLimitPerMinute}
      />
      <CreditFields idPrefix="key" text={text} errors={errors} />
      <RestrictionFields idPrefix="key" text={(name) => text(name)} errors={errors} />
      <FormMessage>{refusal}</FormMessage>
      <DialogFormFooter
        onCancel={onCancel}
        pending={pending}
        submitLabel="Create key"
        pendingLabel="Creating…"
        submitTestId="create-key-submit"
      />
    </form>
  );
}
