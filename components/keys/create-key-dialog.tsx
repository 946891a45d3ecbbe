"use client";
import { Plus } from "lucide-react";
import { useActionState, useEffect, useRef, useState } from "react";
import { toast } from "sonner";
import { createKeyAction, type KeyActionState } from "@/app/(dashboard)/[org]/keys/actions";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Dialog } from "@/components/ui/dialog";
import { errorProps, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Select } from "@/components/ui/select";
import { confirmDiscardKey, KeySecret } from "./key-secret";

const SCOPES = [
  { value: "keys:read", description: "List and read keys" },
  { value: "keys:write", description: "Create, change, rotate and revoke keys" },
  { value: "usage:read", description: "Read usage and statistics" },
  { value: "usage:write", description: "Report usage events" },
] as const;

export function CreateKeyButton({ slug }: { slug: string }) {
  const [open, setOpen] = useState(false);
  // A new form (and a fresh action state) each time the dialog opens; closing drops the key.
  const [generation, setGeneration] = useState(0);
  const [copied, setCopied] = useState(false);
  const [shown, setShown] = useState(false);
  return (
    <>
      <Button
        data-testid="create-key"
        onClick={() => {
          setGeneration((g) => g + 1);
          setCopied(false);
          setShown(false);
          setOpen(true);
        }}
      >
        <Plus className="size-4" aria-hidden="true" /> Create key
      </Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        title={shown ? "Your new key" : "Create a key"}
        description={
          shown ? undefined : "Keys authenticate your services. You choose what each may do."
        }
        confirmClose={() => !shown || confirmDiscardKey(copied)}
        testId="create-key-dialog"
      >
        <CreateKeyForm
          key={generation}
          slug={slug}
          copied={copied}
          onCopied={() => setCopied(true)}
          onCreated={() => setShown(true)}
          onDone={() => {
            if (confirmDiscardKey(copied)) setOpen(false);
          }}
          onCancel={() => setOpen(false)}
        />
      </Dialog>
    </>
  );
}

function CreateKeyForm({
  slug,
  copied,
  onCopied,
  onCreated,
  onDone,
  onCancel,
}: {
  slug: string;
  copied: boolean;
  onCopied: () => void;
  onCreated: () => void;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [state, action, pending] = useActionState<KeyActionState, FormData>(createKeyAction, {
    ok: false,
  });
  const handled = useRef<KeyActionState | null>(null);
  useEffect(() => {
    if (state.ok && handled.current !== state) {
      handled.current = state;
      onCreated();
      toast.success(state.message);
    }
  }, [state, onCreated]);

  if (state.ok && state.key) {
    return (
      <div className="space-y-4">
        <p className="text-sm">
          <span className="font-medium">{state.apiKey.name}</span> ({state.apiKey.environment}) is
          ready.
        </p>
        <KeySecret secret={state.key} copied={copied} onCopied={onCopied} />
        <div className="flex justify-end">
          <Button variant={copied ? "primary" : "outline"} onClick={onDone} data-testid="key-done">
            {copied ? "Done" : "I have stored it, close"}
          </Button>
        </div>
      </div>
    );
  }

  const errors = state.ok ? {} : (state.fieldErrors ?? {});
  const values = state.ok ? {} : (state.values ?? {});
  const chosenScopes = Array.isArray(values.scopes) ? (values.scopes as string[]) : ["keys:read"];
  const minDate = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={slug} />
      <Field
        id="key-name"
        label="Name"
        error={errors.name}
        hint="Where it is used, e.g. billing-service."
      >
        <Input
          id="key-name"
          name="name"
          required
          maxLength={100}
          autoComplete="off"
          defaultValue={typeof values.name === "string" ? values.name : ""}
          {...errorProps("key-name", errors.name)}
        />
      </Field>
      <Field id="key-environment" label="Environment" error={errors.environment}>
        <Select
          id="key-environment"
          name="environment"
          defaultValue={typeof values.environment === "string" ? values.environment : "live"}
          {...errorProps("key-environment", errors.environment)}
        >
          <option value="live">Live (pk_live_…)</option>
          <option value="test">Test (pk_test_…)</option>
        </Select>
      </Field>
      <fieldset className="space-y-2">
        <legend className="mb-1.5 text-sm font-medium">Scopes</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {SCOPES.map((s) => (
            <Checkbox
              key={s.value}
              id={`scope-${s.value}`}
              name="scopes"
              value={s.value}
              defaultChecked={chosenScopes.includes(s.value)}
              label={<code className="font-mono text-xs">{s.value}</code>}
              description={s.description}
            />
          ))}
        </div>
        {errors.scopes ? (
          <p data-testid="key-scopes-error" className="text-xs text-danger">
            {errors.scopes[0]}
          </p>
        ) : null}
      </fieldset>
      <Field
        id="key-expires"
        label="Expires (optional)"
        error={errors.expiresAt}
        hint="End of that day, UTC. Leave empty for no expiry."
      >
        <Input
          id="key-expires"
          name="expiresAt"
          type="date"
          min={minDate}
          defaultValue={typeof values.expiresAt === "string" ? values.expiresAt : ""}
          {...errorProps("key-expires", errors.expiresAt)}
        />
      </Field>
      {!state.ok && state.message && !state.fieldErrors ? (
        <p data-testid="form-message" className="text-sm text-danger">
          {state.message}
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={pending} data-testid="create-key-submit">
          {pending ? "Creating…" : "Create key"}
        </Button>
      </div>
    </form>
  );
}
