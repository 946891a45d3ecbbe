"use client";
// Edit a key's name, scopes, rate limit and expiry (not its environment, and never its secret).
// Admins and owners only: the page shows the button to them, the action checks again.
import { Pencil } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { updateKeyAction } from "@/app/(dashboard)/[org]/keys/actions";
import { Button } from "@/components/ui/button";
import { Dialog, DialogFormFooter } from "@/components/ui/dialog";
import { FormMessage, TextField } from "@/components/ui/field";
import { useActionForm } from "@/components/ui/use-action-form";
import { firstExpiryDay, isEndOfUtcDay, KEY_NAME_MAX, utcDay } from "@/lib/validation/rules";
import { RateLimitField, ScopeCheckboxes } from "./create-key-dialog";
import { budgetDefaultsOf, CreditFields } from "./credit-fields";
import { formatDateTime } from "./format";
import { KeyFormIds } from "./key-form-ids";
import { RestrictionFields, restrictionText } from "./restriction-fields";

export interface EditableKey {
  id: string;
  name: string;
  scopes: string[];
  expiresAt: string | null;
  rateLimitPerMinute: number | null;
  /** A rotated key's expiry is the end of its grace period and cannot change. */
  rotatedToId: string | null;
  credits: { remaining: number; refill: { amount: number; interval: string } | null } | null;
  spendLimitUsd: string | null;
  allowedCidrs: string[];
  externalId: string | null;
  meta: Record<string, unknown> | null;
}

export function EditKeyButton({
  slug,
  apiKey,
  planRateLimit,
}: {
  slug: string;
  apiKey: EditableKey;
  planRateLimit: number;
}) {
  const [open, setOpen] = useState(false);
  const [generation, setGeneration] = useState(0);
  return (
    <>
      <Button
        variant="outline"
        onClick={() => {
          setGeneration((g) => g + 1);
          setOpen(true);
        }}
        data-testid="edit-key"
      >
        <Pencil className="size-3.5" aria-hidden="true" /> Edit
      </Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        title={`Edit ${apiKey.name}`}
        description="The key itself stays the same; services using it need no change."
        testId="edit-key-dialog"
      >
        <EditKeyForm
          key={generation}
          slug={slug}
          apiKey={apiKey}
          planRateLimit={planRateLimit}
          onClose={() => setOpen(false)}
        />
      </Dialog>
    </>
  );
}

function EditKeyForm({
  slug,
  apiKey,
  planRateLimit,
  onClose,
}: {
  slug: string;
  apiKey: EditableKey;
  planRateLimit: number;
  onClose: () => void;
}) {
  const { action, pending, errors, values, text, refusal } = useActionForm(updateKeyAction, {
    onSuccess: (saved) => {
      toast.success(saved.message);
      onClose();
    },
  });
  // The UTC day, as the date input shows it; the create form sets the end of that day.
  const shownExpiry = apiKey.expiresAt ? utcDay(apiKey.expiresAt) : "";
  const shownRestrictions = restrictionText(apiKey);
  const exactExpiry =
    apiKey.expiresAt && !isEndOfUtcDay(apiKey.expiresAt) ? apiKey.expiresAt : null;
  return (
    <form action={action} className="space-y-4" noValidate>
      <KeyFormIds slug={slug} keyId={apiKey.id} />
      <input type="hidden" name="expiresAtShown" value={shownExpiry} />
      {apiKey.scopes.map((s) => (
        <input key={s} type="hidden" name="scopesShown" value={s} />
      ))}
      <TextField
        id="edit-key-name"
        name="name"
        label="Name"
        required
        maxLength={KEY_NAME_MAX}
        autoComplete="off"
        defaultValue={text("name", apiKey.name)}
        error={errors.name}
      />
      <ScopeCheckboxes
        chosen={Array.isArray(values.scopes) ? (values.scopes as string[]) : apiKey.scopes}
        custom={apiKey.scopes}
        error={errors.scopes}
      />
      <RateLimitField
        id="edit-key-rate-limit"
        planRateLimit={planRateLimit}
        defaultValue={text("rateLimitPerMinute", apiKey.rateLimitPerMinute?.toString() ?? "")}
        error={errors.rateLimitPerMinute}
      />
      <TextField
        id="edit-key-expires"
        name="expiresAt"
        label="Expires"
        type="date"
        min={firstExpiryDay()}
        disabled={Boolean(apiKey.rotatedToId)}
        defaultValue={text("expiresAt", shownExpiry)}
        error={errors.expiresAt}
        hint={
          apiKey.rotatedToId
            ? `Rotated: this key stops working ${apiKey.expiresAt ? formatDateTime(apiKey.expiresAt) : "when its grace period ends"}; that cannot change.`
            : exactExpiry
              ? `Now ${formatDateTime(exactExpiry)}. A new date means the end of that day, UTC; empty means never.`
              : "End of that day, UTC. Leave empty for no expiry."
        }
      />
      <CreditFields
        idPrefix="edit-key"
        shown={budgetDefaultsOf(apiKey)}
        text={text}
        errors={errors}
      />
      <RestrictionFields
        idPrefix="edit-key"
        text={(name) => text(name, shownRestrictions[name])}
        errors={errors}
      />
      <FormMessage>{refusal}</FormMessage>
      <DialogFormFooter
        onCancel={onClose}
        pending={pending}
        submitLabel="Save changes"
        pendingLabel="Saving…"
        submitTestId="edit-key-submit"
      />
    </form>
  );
}
