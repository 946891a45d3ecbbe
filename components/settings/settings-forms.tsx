"use client";
import { useActionState, useEffect, useRef } from "react";
import { toast } from "sonner";
import {
  changeRoleAction,
  inviteMemberAction,
  removeMemberAction,
  renameOrganizationAction,
  resendInvitationAction,
  revokeInvitationAction,
  type SettingsState,
} from "@/app/(dashboard)/[org]/settings/actions";
import { Button } from "@/components/ui/button";
import { Field, TextField } from "@/components/ui/field";
import { Select } from "@/components/ui/select";
import { ROLE_LABELS, ROLES, type Role } from "@/lib/validation/rules";

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

function useToasts(state: SettingsState) {
  const seen = useRef<SettingsState | null>(null);
  useEffect(() => {
    if (seen.current === state) return;
    seen.current = state;
    if (state.ok && state.message) toast.success(state.message);
    else if (!state.ok && state.message) toast.error(state.message);
  }, [state]);
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
  const [state, action, pending] = useActionState<SettingsState, FormData>(
    renameOrganizationAction,
    { ok: false },
  );
  useToasts(state);
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} className="flex flex-col gap-3 sm:flex-row sm:items-end" noValidate>
      <input type="hidden" name="org" value={slug} />
      <div className="flex-1">
        <TextField
          id="org-name"
          name="name"
          label="Name"
          defaultValue={state.values?.name ?? name}
          disabled={disabled}
          required
          error={errors.name}
        />
      </div>
      {disabled ? null : (
        <Button type="submit" disabled={pending} variant="secondary">
          {pending ? "Saving…" : "Save"}
        </Button>
      )}
    </form>
  );
}

export function InviteForm({ slug, canGrantOwner }: { slug: string; canGrantOwner: boolean }) {
  const [state, action, pending] = useActionState<SettingsState, FormData>(inviteMemberAction, {
    ok: false,
  });
  useToasts(state);
  const errors = state.fieldErrors ?? {};
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
        defaultValue={state.ok ? "" : state.values?.email}
        error={errors.email}
        hint="They get a link to accept or decline (valid 7 days)."
      />
      <Field id="member-role" label="Role" error={errors.role}>
        <Select id="member-role" name="role" defaultValue={state.values?.role ?? "VIEWER"}>
          <RoleOptions withOwner={canGrantOwner} />
        </Select>
      </Field>
      <Button type="submit" disabled={pending} className="sm:mt-[1.375rem]" data-testid="invite">
        {pending ? "Inviting…" : "Invite"}
      </Button>
      {!state.ok && state.message ? (
        <p className="text-sm text-danger sm:col-span-3" data-testid="invite-message">
          {state.message}
        </p>
      ) : null}
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
  const [resendState, resendAction, resendPending] = useActionState<SettingsState, FormData>(
    resendInvitationAction,
    { ok: false },
  );
  const [revokeState, revokeAction, revokePending] = useActionState<SettingsState, FormData>(
    revokeInvitationAction,
    { ok: false },
  );
  useToasts(resendState);
  useToasts(revokeState);
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <form action={resendAction}>
        <input type="hidden" name="org" value={slug} />
        <input type="hidden" name="invitationId" value={invitationId} />
        <Button
          type="submit"
          size="sm"
          variant="outline"
          disabled={disabled || resendPending}
          aria-label={`Resend the invitation to ${email}`}
        >
          Resend
        </Button>
      </form>
      <form
        action={revokeAction}
        onSubmit={(e) => {
          if (!window.confirm(`Revoke the invitation to ${email}?`)) e.preventDefault();
        }}
      >
        <input type="hidden" name="org" value={slug} />
        <input type="hidden" name="invitationId" value={invitationId} />
        <Button
          type="submit"
          size="sm"
          variant="ghost"
          className="text-danger"
          disabled={disabled || revokePending}
          aria-label={`Revoke the invitation to ${email}`}
        >
          Revoke
        </Button>
      </form>
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
  const [roleState, roleAction, rolePending] = useActionState<SettingsState, FormData>(
    changeRoleAction,
    { ok: false },
  );
  const [removeState, removeAction, removePending] = useActionState<SettingsState, FormData>(
    removeMemberAction,
    {
      ok: false,
    },
  );
  useToasts(roleState);
  useToasts(removeState);
  const ownerLocked = role === "OWNER" && !canGrantOwner;
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <form action={roleAction} className="flex items-center gap-2">
        <input type="hidden" name="org" value={slug} />
        <input type="hidden" name="userId" value={userId} />
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
        <Button type="submit" size="sm" variant="outline" disabled={rolePending || ownerLocked}>
          Save
        </Button>
      </form>
      <form
        action={removeAction}
        onSubmit={(e) => {
          const who = isSelf ? "yourself" : email;
          if (!window.confirm(`Remove ${who} from this organization?`)) e.preventDefault();
        }}
      >
        <input type="hidden" name="org" value={slug} />
        <input type="hidden" name="userId" value={userId} />
        <Button
          type="submit"
          size="sm"
          variant="ghost"
          className="text-danger"
          disabled={removePending || ownerLocked}
          aria-label={`Remove ${email}`}
        >
          Remove
        </Button>
      </form>
    </div>
  );
}
