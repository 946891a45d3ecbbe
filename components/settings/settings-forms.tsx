"use client";
import { type ReactNode, useEffect, useRef } from "react";
import {
  changeRoleAction,
  inviteMemberAction,
  removeMemberAction,
  renameOrganizationAction,
  resendInvitationAction,
  revokeInvitationAction,
  type SettingsState,
  setKeyPolicyAction,
  setSpendLimitAction,
} from "@/app/(dashboard)/[org]/settings/actions";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Field, TextField } from "@/components/ui/field";
import { Select } from "@/components/ui/select";
import { useActionForm } from "@/components/ui/use-action-form";
import { KEY_LIFETIME_DAYS_MAX, ROLE_LABELS, ROLES, type Role } from "@/lib/validation/rules";

/** The role options a member may give: OWNER only by an owner (or when it is already held). */
function RoleOptions({ withOwner }: { withOwner: boolean }) {
  // Lowest first, as the select lists them.
  return [...ROLES]
    .reverse()
    .filter((r) => r !== "OWNER" || withOwner)
    .map((r: Role) => (
      <option key={r} value={r}>
        {ROLE_LABELS[r]}
      </option>
    ));
}

export function RenameForm({
  slug,
  name,
  disabled,
}: {
  slug: string;
  name: string;
  disabled: boolean;
}) {
  const form = useActionForm(renameOrganizationAction, { toasts: true });
  return (
    <OneFieldForm slug={slug} disabled={disabled} action={form.action} pending={form.pending}>
      <TextField
        id="org-name"
        name="name"
        label="Name"
        defaultValue={form.text("name", name)}
        disabled={disabled}
        required
        error={form.errors.name}
      />
    </OneFieldForm>
  );
}

/** The organization's monthly spend cap: owners change it; everyone sees it. */
export function SpendLimitForm({
  slug,
  spendLimitUsd,
  disabled,
}: {
  slug: string;
  spendLimitUsd: string;
  disabled: boolean;
}) {
  const form = useActionForm(setSpendLimitAction, { toasts: true });
  return (
    <OneFieldForm slug={slug} disabled={disabled} action={form.action} pending={form.pending}>
      <TextField
        id="org-spend-limit"
        name="spendLimitUsd"
        label="Spend limit (USD per month, all keys)"
        inputMode="decimal"
        placeholder="No limit"
        defaultValue={form.text("spendLimitUsd", spendLimitUsd)}
        disabled={disabled}
        error={form.errors.spendLimitUsd}
        hint="Against the metered cost of every key's calls, per calendar month (UTC); past it every key's verify answers SPEND_LIMIT_EXCEEDED. Empty: no limit. Owners only."
      />
    </OneFieldForm>
  );
}

/** A settings form of one field and a Save button (none when the member cannot change it). */
function OneFieldForm({
  slug,
  disabled,
  action,
  pending,
  children,
}: {
  slug: string;
  disabled: boolean;
  action: (form: FormData) => void;
  pending: boolean;
  children: ReactNode;
}) {
  return (
    <form action={action} className="flex flex-col gap-3 sm:flex-row sm:items-end" noValidate>
      <input type="hidden" name="org" value={slug} />
      <div className="flex-1">{children}</div>
      {disabled ? null : (
        <Button type="submit" disabled={pending} variant="secondary">
          {pending ? "Saving…" : "Save"}
        </Button>
      )}
    </form>
  );
}

/** The organization's key policy: owners change it; everyone else sees it, disabled. */
export function KeyPolicyForm({
  slug,
  policy,
  disabled,
}: {
  slug: string;
  policy: {
    maxKeyLifetimeDays: number | null;
    keyExpiryRequired: boolean;
    liveKeysAdminsOnly: boolean;
  };
  disabled: boolean;
}) {
  const { action, pending, errors, text, refusal, values } = useActionForm(setKeyPolicyAction, {
    toasts: true,
  });
  const checked = (field: "keyExpiryRequired" | "liveKeysAdminsOnly") =>
    typeof values[field] === "string" ? values[field] === "on" : policy[field];
  return (
    <form action={action} className="space-y-3" noValidate data-testid="key-policy-form">
      <input type="hidden" name="org" value={slug} />
      <TextField
        id="policy-max-lifetime"
        name="maxKeyLifetimeDays"
        label="Longest key lifetime (days)"
        type="number"
        inputMode="numeric"
        min={1}
        max={KEY_LIFETIME_DAYS_MAX}
        placeholder="No limit"
        defaultValue={text("maxKeyLifetimeDays", policy.maxKeyLifetimeDays?.toString() ?? "")}
        disabled={disabled}
        error={errors.maxKeyLifetimeDays}
        hint="New and rotated keys must expire within this many days. Empty: no limit."
      />
      <Checkbox
        id="policy-expiry-required"
        name="keyExpiryRequired"
        label="Every key needs an expiry"
        defaultChecked={checked("keyExpiryRequired")}
        disabled={disabled}
      />
      <Checkbox
        id="policy-live-admins"
        name="liveKeysAdminsOnly"
        label="Only admins and owners make live keys (not API keys)"
        defaultChecked={checked("liveKeysAdminsOnly")}
        disabled={disabled}
      />
      {refusal ? <p className="text-sm text-danger">{refusal}</p> : null}
      {disabled ? (
        <p className="text-xs text-muted-foreground">Only owners change the key policy.</p>
      ) : (
        <Button type="submit" disabled={pending} variant="secondary" data-testid="key-policy-save">
          {pending ? "Saving…" : "Save policy"}
        </Button>
      )}
    </form>
  );
}

export function InviteForm({ slug, canGrantOwner }: { slug: string; canGrantOwner: boolean }) {
  const { state, action, pending, errors, text, refusal } = useActionForm(inviteMemberAction, {
    toasts: true,
  });
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state.ok) formRef.current?.reset();
  }, [state]);
  return (
    <form
      ref={formRef}
      action={action}
      className="grid gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-start"
      noValidate
    >
      <input type="hidden" name="org" value={slug} />
      <TextField
        id="member-email"
        name="email"
        label="Email"
        type="email"
        required
        defaultValue={text("email")}
        error={errors.email}
        hint="They get a link to accept or decline (valid 7 days)."
      />
      <Field id="member-role" label="Role" error={errors.role}>
        <Select id="member-role" name="role" defaultValue={text("role", "VIEWER")}>
          <RoleOptions withOwner={canGrantOwner} />
        </Select>
      </Field>
      <Button type="submit" disabled={pending} className="sm:mt-[1.375rem]" data-testid="invite">
        {pending ? "Inviting…" : "Invite"}
      </Button>
      {refusal ? (
        <p className="text-sm text-danger sm:col-span-3" data-testid="invite-message">
          {refusal}
        </p>
      ) : null}
    </form>
  );
}

/**
 * One button in a row of the members or invitations table: its own small form posting `fields`
 * (and the organization) to `serverAction`, asking `confirm` first when given, with a toast for
 * the outcome.
 */
function RowAction({
  serverAction,
  slug,
  fields,
  confirm,
  children,
  className,
}: {
  serverAction: (prev: SettingsState, form: FormData) => Promise<SettingsState>;
  slug: string;
  fields: Record<string, string>;
  confirm?: string;
  children: (pending: boolean) => ReactNode;
  className?: string;
}) {
  const { action, pending } = useActionForm(serverAction, { toasts: true });
  return (
    <form
      action={action}
      className={className}
      onSubmit={(e) => {
        if (confirm && !window.confirm(confirm)) e.preventDefault();
      }}
    >
      <input type="hidden" name="org" value={slug} />
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {children(pending)}
    </form>
  );
}

export function InvitationControls({
  slug,
  invitationId,
  email,
  disabled,
}: {
  slug: string;
  invitationId: string;
  email: string;
  disabled: boolean;
}) {
  const fields = { invitationId };
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <RowAction serverAction={resendInvitationAction} slug={slug} fields={fields}>
        {(pending) => (
          <Button
            type="submit"
            size="sm"
            variant="outline"
            disabled={disabled || pending}
            aria-label={`Resend the invitation to ${email}`}
          >
            Resend
          </Button>
        )}
      </RowAction>
      <RowAction
        serverAction={revokeInvitationAction}
        slug={slug}
        fields={fields}
        confirm={`Revoke the invitation to ${email}?`}
      >
        {(pending) => (
          <Button
            type="submit"
            size="sm"
            variant="ghost"
            className="text-danger"
            disabled={disabled || pending}
            aria-label={`Revoke the invitation to ${email}`}
          >
            Revoke
          </Button>
        )}
      </RowAction>
    </div>
  );
}

export function MemberControls({
  slug,
  userId,
  role,
  email,
  canGrantOwner,
  isSelf,
}: {
  slug: string;
  userId: string;
  role: string;
  email: string;
  canGrantOwner: boolean;
  isSelf: boolean;
}) {
  const ownerLocked = role === "OWNER" && !canGrantOwner;
  const fields = { userId };
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <RowAction
        serverAction={changeRoleAction}
        slug={slug}
        fields={fields}
        className="flex items-center gap-2"
      >
        {(pending) => (
          <>
            <label htmlFor={`role-${userId}`} className="sr-only">
              Role of {email}
            </label>
            <Select
              id={`role-${userId}`}
              name="role"
              defaultValue={role}
              disabled={ownerLocked}
              className="h-8 w-28 py-1"
            >
              <RoleOptions withOwner={canGrantOwner || role === "OWNER"} />
            </Select>
            <Button type="submit" size="sm" variant="outline" disabled={pending || ownerLocked}>
              Save
            </Button>
          </>
        )}
      </RowAction>
      <RowAction
        serverAction={removeMemberAction}
        slug={slug}
        fields={fields}
        confirm={`Remove ${isSelf ? "yourself" : email} from this organization?`}
      >
        {(pending) => (
          <Button
            type="submit"
            size="sm"
            variant="ghost"
            className="text-danger"
            disabled={pending || ownerLocked}
            aria-label={`Remove ${email}`}
          >
            Remove
          </Button>
        )}
      </RowAction>
    </div>
  );
}
