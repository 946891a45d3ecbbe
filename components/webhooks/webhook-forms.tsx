"use client";
// The webhook endpoint dialogs and buttons: create (the signing secret shown once, with the same
// copy-once step as a new key), edit, rotate the secret (shown once), enable/disable, send a test
// event, resend a delivery, delete (confirmed).
import { Pencil, Plus, RefreshCw, Send, Trash2 } from "lucide-react";
import { useRouter } from "next/navigation";
import { type ReactNode, useState } from "react";
import { toast } from "sonner";
import {
  createWebhookAction,
  deleteWebhookAction,
  resendWebhookDeliveryAction,
  rotateWebhookSecretAction,
  sendWebhookTestAction,
  setWebhookEnabledAction,
  updateWebhookAction,
  type WebhookActionState,
} from "@/app/(dashboard)/[org]/settings/webhooks/actions";
import { confirmDiscardKey, KeyShownStep, useCopyOnceDialog } from "@/components/keys/key-secret";
import { Button, SubmitButton } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Dialog, DialogFormFooter } from "@/components/ui/dialog";
import { FormMessage, TextField } from "@/components/ui/field";
import { useActionForm } from "@/components/ui/use-action-form";
import { WEBHOOK_DESCRIPTION_MAX, WEBHOOK_URL_MAX_LENGTH } from "@/lib/validation/rules";

type Action = (prev: WebhookActionState, form: FormData) => Promise<WebhookActionState>;

interface EndpointRef {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
}

function EventTypeCheckboxes({
  options,
  chosen,
  error,
}: {
  options: readonly string[];
  chosen: string[];
  error?: string[];
}) {
  return (
    <fieldset
      className="space-y-2"
      aria-describedby={error?.length ? "event-types-error" : undefined}
    >
      <legend className="mb-1.5 text-sm font-medium">Events</legend>
      <div className="grid gap-2 sm:grid-cols-2">
        {options.map((type) => (
          <Checkbox
            key={type}
            id={`event-${type}`}
            name="eventTypes"
            value={type}
            defaultChecked={chosen.includes(type)}
            label={<code className="font-mono text-xs">{type}</code>}
          />
        ))}
      </div>
      {error?.length ? (
        <p id="event-types-error" data-testid="event-types-error" className="text-xs text-danger">
          {error[0]}
        </p>
      ) : null}
    </fieldset>
  );
}

/** URL, description and events: the create and the edit form's fields. */
function EndpointFields({
  eventTypes,
  initial,
  form,
}: {
  eventTypes: readonly string[];
  initial?: EndpointRef;
  form: ReturnType<typeof useActionForm<WebhookActionState>>;
}) {
  const { errors, values, text } = form;
  const chosen = Array.isArray(values.eventTypes)
    ? (values.eventTypes as string[])
    : (initial?.eventTypes ?? []);
  return (
    <>
      <TextField
        id="webhook-url"
        name="url"
        label="URL"
        type="url"
        required
        maxLength={WEBHOOK_URL_MAX_LENGTH}
        autoComplete="off"
        placeholder="https://hooks.example.com/keyward"
        defaultValue={text("url", initial?.url ?? "")}
        error={errors.url}
        hint="https only. Private and internal addresses are refused."
      />
      <TextField
        id="webhook-description"
        name="description"
        label="Description (optional)"
        maxLength={WEBHOOK_DESCRIPTION_MAX}
        autoComplete="off"
        defaultValue={text("description", initial?.description ?? "")}
        error={errors.description}
      />
      <EventTypeCheckboxes options={eventTypes} chosen={chosen} error={errors.eventTypes} />
    </>
  );
}

export function CreateWebhookButton({
  slug,
  eventTypes,
}: {
  slug: string;
  eventTypes: readonly string[];
}) {
  const [open, setOpen] = useState(false);
  const once = useCopyOnceDialog("signing secret");
  return (
    <>
      <Button
        data-testid="create-webhook"
        onClick={() => {
          once.reset();
          setOpen(true);
        }}
      >
        <Plus className="size-4" aria-hidden="true" /> Add endpoint
      </Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        title={once.shown ? "The endpoint's signing secret" : "Add a webhook endpoint"}
        description={
          once.shown
            ? undefined
            : "Keyward sends the events you choose to this URL, signed (Standard Webhooks)."
        }
        confirmClose={once.confirmClose}
        testId="create-webhook-dialog"
      >
        <CreateWebhookForm
          key={once.generation}
          slug={slug}
          eventTypes={eventTypes}
          copied={once.copied}
          onCopied={once.markCopied}
          onCreated={once.markShown}
          onDone={() => {
            if (confirmDiscardKey(once.copied, "signing secret")) setOpen(false);
          }}
          onCancel={() => setOpen(false)}
        />
      </Dialog>
    </>
  );
}

function CreateWebhookForm({
  slug,
  eventTypes,
  copied,
  onCopied,
  onCreated,
  onDone,
  onCancel,
}: {
  slug: string;
  eventTypes: readonly string[];
  copied: boolean;
  onCopied: () => void;
  onCreated: () => void;
  onDone: () => void;
  onCancel: () => void;
}) {
  const form = useActionForm(createWebhookAction, {
    onSuccess: (s) => {
      onCreated();
      toast.success(s.message);
    },
  });
  const { state, action, pending, refusal } = form;
  if (state.ok && state.secret) {
    return (
      <KeyShownStep
        secret={state.secret}
        copied={copied}
        onCopied={onCopied}
        onDone={onDone}
        kind="webhook-secret"
      >
        <p className="text-sm">
          <span className="font-medium break-all">{state.webhook?.url}</span> is registered.
        </p>
      </KeyShownStep>
    );
  }
  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={slug} />
      <EndpointFields eventTypes={eventTypes} form={form} />
      <FormMessage>{refusal}</FormMessage>
      <DialogFormFooter
        onCancel={onCancel}
        pending={pending}
        submitLabel="Add endpoint"
        pendingLabel="Adding…"
        submitTestId="create-webhook-submit"
      />
    </form>
  );
}

/** A one-button form: hidden fields, a submit button, the outcome as a toast. */
function ActionButton({
  action,
  fields,
  label,
  pendingLabel,
  icon,
  testId,
  variant = "outline",
}: {
  action: Action;
  fields: Record<string, string>;
  label: string;
  pendingLabel: string;
  icon: ReactNode;
  testId: string;
  variant?: "outline" | "primary";
}) {
  const { action: run, pending } = useActionForm(action, { toasts: true });
  return (
    <form action={run}>
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <SubmitButton
        variant={variant}
        size="sm"
        pending={pending}
        pendingLabel={pendingLabel}
        data-testid={testId}
      >
        {icon}
        {label}
      </SubmitButton>
    </form>
  );
}

export function ResendDeliveryButton({
  slug,
  webhookId,
  deliveryId,
}: {
  slug: string;
  webhookId: string;
  deliveryId: string;
}) {
  return (
    <ActionButton
      action={resendWebhookDeliveryAction}
      fields={{ org: slug, webhookId, deliveryId }}
      label="Resend"
      pendingLabel="Queuing…"
      icon={<RefreshCw className="size-3.5" aria-hidden="true" />}
      testId={`resend-${deliveryId}`}
    />
  );
}

/** Reloads the server-rendered delivery log. */
export function RefreshButton() {
  const router = useRouter();
  return (
    <Button
      variant="outline"
      size="sm"
      onClick={() => router.refresh()}
      data-testid="refresh-deliveries"
    >
      <RefreshCw className="size-3.5" aria-hidden="true" /> Refresh
    </Button>
  );
}

export function WebhookActions({
  slug,
  webhook,
  eventTypes,
}: {
  slug: string;
  webhook: EndpointRef;
  eventTypes: readonly string[];
}) {
  const [dialog, setDialog] = useState<"edit" | "rotate" | "delete" | null>(null);
  const once = useCopyOnceDialog("signing secret");
  const open = (d: "edit" | "rotate" | "delete") => {
    once.reset();
    setDialog(d);
  };
  const fields = { org: slug, webhookId: webhook.id };
  return (
    <div className="flex flex-wrap gap-2">
      <ActionButton
        action={sendWebhookTestAction}
        fields={fields}
        label="Send test event"
        pendingLabel="Sending…"
        icon={<Send className="size-3.5" aria-hidden="true" />}
        testId="send-test-event"
        variant="primary"
      />
      <ActionButton
        action={setWebhookEnabledAction}
        fields={{ ...fields, enabled: webhook.enabled ? "false" : "true" }}
        label={webhook.enabled ? "Disable" : "Enable"}
        pendingLabel="Saving…"
        icon={null}
        testId="toggle-webhook"
      />
      <Button variant="outline" size="sm" onClick={() => open("edit")} data-testid="edit-webhook">
        <Pencil className="size-3.5" aria-hidden="true" /> Edit
      </Button>
      <Button
        variant="outline"
        size="sm"
        onClick={() => open("rotate")}
        data-testid="rotate-secret"
      >
        <RefreshCw className="size-3.5" aria-hidden="true" /> Rotate secret
      </Button>
      <Button
        variant="outline"
        size="sm"
        className="text-danger"
        onClick={() => open("delete")}
        data-testid="delete-webhook"
      >
        <Trash2 className="size-3.5" aria-hidden="true" /> Delete
      </Button>

      <Dialog
        open={dialog === "edit"}
        onOpenChange={(o) => setDialog(o ? "edit" : null)}
        title="Edit the endpoint"
        testId="edit-webhook-dialog"
      >
        <EditForm
          key={once.generation}
          slug={slug}
          webhook={webhook}
          eventTypes={eventTypes}
          onClose={() => setDialog(null)}
        />
      </Dialog>
      <Dialog
        open={dialog === "rotate"}
        onOpenChange={(o) => setDialog(o ? "rotate" : null)}
        title={once.shown ? "The new signing secret" : "Rotate the signing secret?"}
        description={
          once.shown
            ? undefined
            : "A new secret signs every message from now on. For 24 hours the old one signs too, so the receiver can switch without losing a message."
        }
        confirmClose={once.confirmClose}
        testId="rotate-secret-dialog"
      >
        <RotateForm
          key={once.generation}
          slug={slug}
          webhookId={webhook.id}
          copied={once.copied}
          onCopied={once.markCopied}
          onRotated={once.markShown}
          onClose={(force) => {
            if (force || confirmDiscardKey(once.copied, "signing secret")) setDialog(null);
          }}
        />
      </Dialog>
      <Dialog
        open={dialog === "delete"}
        onOpenChange={(o) => setDialog(o ? "delete" : null)}
        title="Delete this endpoint?"
        description={`${webhook.url} stops receiving events at once; its delivery log is deleted too. This cannot be undone.`}
        testId="delete-webhook-dialog"
      >
        <DeleteForm
          key={once.generation}
          slug={slug}
          webhookId={webhook.id}
          onClose={() => setDialog(null)}
        />
      </Dialog>
    </div>
  );
}

function EditForm({
  slug,
  webhook,
  eventTypes,
  onClose,
}: {
  slug: string;
  webhook: EndpointRef;
  eventTypes: readonly string[];
  onClose: () => void;
}) {
  const form = useActionForm(updateWebhookAction, {
    onSuccess: (s) => {
      toast.success(s.message);
      onClose();
    },
  });
  return (
    <form action={form.action} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={slug} />
      <input type="hidden" name="webhookId" value={webhook.id} />
      <EndpointFields eventTypes={eventTypes} initial={webhook} form={form} />
      <FormMessage>{form.refusal}</FormMessage>
      <DialogFormFooter
        onCancel={onClose}
        pending={form.pending}
        submitLabel="Save"
        pendingLabel="Saving…"
        submitTestId="edit-webhook-submit"
      />
    </form>
  );
}

function RotateForm({
  slug,
  webhookId,
  copied,
  onCopied,
  onRotated,
  onClose,
}: {
  slug: string;
  webhookId: string;
  copied: boolean;
  onCopied: () => void;
  onRotated: () => void;
  onClose: (force?: boolean) => void;
}) {
  const { state, action, pending, refusal } = useActionForm(rotateWebhookSecretAction, {
    onSuccess: (s) => {
      onRotated();
      toast.success(s.message);
    },
  });
  if (state.ok && state.secret) {
    return (
      <KeyShownStep
        secret={state.secret}
        copied={copied}
        onCopied={onCopied}
        onDone={() => onClose()}
        kind="webhook-secret"
      />
    );
  }
  return (
    <form action={action} className="space-y-4">
      <input type="hidden" name="org" value={slug} />
      <input type="hidden" name="webhookId" value={webhookId} />
      <FormMessage>{refusal}</FormMessage>
      <DialogFormFooter
        onCancel={() => onClose(true)}
        pending={pending}
        submitLabel="Rotate secret"
        pendingLabel="Rotating…"
        submitTestId="rotate-secret-submit"
      />
    </form>
  );
}

function DeleteForm({
  slug,
  webhookId,
  onClose,
}: {
  slug: string;
  webhookId: string;
  onClose: () => void;
}) {
  const router = useRouter();
  const { action, pending, errors, refusal } = useActionForm(deleteWebhookAction, {
    onSuccess: (s) => {
      toast.success(s.message);
      onClose();
      router.push(`/${slug}/settings/webhooks`);
    },
  });
  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="org" value={slug} />
      <input type="hidden" name="webhookId" value={webhookId} />
      <Checkbox
        id="webhook-delete-confirm"
        name="confirm"
        label="Yes, delete this endpoint and its delivery log."
        aria-invalid={errors.confirm?.length ? true : undefined}
        aria-describedby={errors.confirm?.length ? "webhook-delete-confirm-error" : undefined}
      />
      {errors.confirm?.length ? (
        <p id="webhook-delete-confirm-error" className="text-xs text-danger">
          {errors.confirm[0]}
        </p>
      ) : null}
      <FormMessage>{refusal}</FormMessage>
      <DialogFormFooter
        onCancel={onClose}
        pending={pending}
        submitLabel="Delete endpoint"
        pendingLabel="Deleting…"
        submitTestId="delete-webhook-submit"
        variant="danger"
      />
    </form>
  );
}
