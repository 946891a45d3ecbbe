"use server";
// Organization settings: rename, members (change role, remove) and invitations (invite by email,
// resend, revoke). Session, membership and role first; the services enforce who may touch OWNER
// and keep one owner.
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { getDb } from "@/lib/db";
import { isKeywardError } from "@/lib/errors";
import {
  createInvitation,
  resendInvitation,
  revokeInvitation,
} from "@/lib/services/invitation-service";
import { changeMemberRole, removeMember, renameOrganization } from "@/lib/services/org-service";
import { EmailSchema, OrganizationNameSchema, RoleSchema } from "@/lib/validation/accounts";
import { authorizeMember } from "../../_lib/access";

export type SettingsState = {
  ok: boolean;
  message?: string;
  fieldErrors?: Record<string, string[] | undefined>;
  values?: Record<string, string>;
};

function failure(e: unknown, values?: Record<string, string>): SettingsState {
  if (!isKeywardError(e)) throw e;
  if (e.issues?.length) {
    const fieldErrors: Record<string, string[]> = {};
    for (const i of e.issues) fieldErrors[i.path] = [i.message];
    return { ok: false, fieldErrors, values };
  }
  return { ok: false, message: e.message, values };
}

const RenameInput = z.object({ name: OrganizationNameSchema });

export async function renameOrganizationAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const values = { name: String(form.get("name") ?? "") };
  const parsed = RenameInput.safeParse(values);
  if (!parsed.success)
    return { ok: false, fieldErrors: z.flattenError(parsed.error).fieldErrors, values };
  try {
    await renameOrganization(
      await getDb(),
      access.ctx.organization.id,
      parsed.data.name,
      access.actor,
      access.ctx.role,
    );
  } catch (e) {
    return failure(e, values);
  }
  revalidatePath(`/${access.ctx.organization.slug}`, "layout");
  return { ok: true, message: "Organization renamed.", values };
}

const InviteInput = z.object({
  email: EmailSchema,
  role: RoleSchema,
});

const MAIL_FAILED = "but the mail could not be sent. Use Resend in the list below.";

export async function inviteMemberAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const values = {
    email: String(form.get("email") ?? "").trim(),
    role: String(form.get("role") ?? ""),
  };
  const parsed = InviteInput.safeParse(values);
  if (!parsed.success)
    return { ok: false, fieldErrors: z.flattenError(parsed.error).fieldErrors, values };
  let mailed: boolean;
  try {
    ({ mailed } = await createInvitation(
      await getDb(),
      access.ctx.organization.id,
      parsed.data,
      access.actor,
      access.ctx.role,
    ));
  } catch (e) {
    return failure(e, values);
  }
  revalidatePath(`/${access.ctx.organization.slug}/settings`);
  const who = `${parsed.data.email} invited as ${parsed.data.role.toLowerCase()}`;
  return mailed
    ? { ok: true, message: `${who}.` }
    : { ok: false, message: `${who}, ${MAIL_FAILED}`, values: { email: "", role: values.role } };
}

const InvitationInput = z.object({ invitationId: z.uuid("Unknown invitation.") });

export async function resendInvitationAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const parsed = InvitationInput.safeParse({ invitationId: form.get("invitationId") });
  if (!parsed.success) return { ok: false, message: z.prettifyError(parsed.error) };
  let mailed: boolean;
  let email: string;
  try {
    const r = await resendInvitation(
      await getDb(),
      access.ctx.organization.id,
      parsed.data.invitationId,
      access.actor,
      access.ctx.role,
    );
    mailed = r.mailed;
    email = r.invitation.email;
  } catch (e) {
    return failure(e);
  }
  revalidatePath(`/${access.ctx.organization.slug}/settings`);
  return mailed
    ? { ok: true, message: `A new link was sent to ${email}.` }
    : { ok: false, message: `A new link was made for ${email}, ${MAIL_FAILED}` };
}

export async function revokeInvitationAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const parsed = InvitationInput.safeParse({ invitationId: form.get("invitationId") });
  if (!parsed.success) return { ok: false, message: z.prettifyError(parsed.error) };
  try {
    await revokeInvitation(
      await getDb(),
      access.ctx.organization.id,
      parsed.data.invitationId,
      access.actor,
      access.ctx.role,
    );
  } catch (e) {
    return failure(e);
  }
  revalidatePath(`/${access.ctx.organization.slug}/settings`);
  return { ok: true, message: "Invitation revoked." };
}

const MemberInput = z.object({ userId: z.uuid("Unknown member.") });

export async function changeRoleAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const parsed = MemberInput.extend({ role: RoleSchema }).safeParse({
    userId: form.get("userId"),
    role: form.get("role"),
  });
  if (!parsed.success) return { ok: false, message: z.prettifyError(parsed.error) };
  try {
    await changeMemberRole(
      await getDb(),
      access.ctx.organization.id,
      parsed.data.userId,
      parsed.data.role,
      access.actor,
      access.ctx.role,
    );
  } catch (e) {
    return failure(e);
  }
  revalidatePath(`/${access.ctx.organization.slug}`, "layout");
  return { ok: true, message: "Role changed." };
}

export async function removeMemberAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const parsed = MemberInput.safeParse({ userId: form.get("userId") });
  if (!parsed.success) return { ok: false, message: z.prettifyError(parsed.error) };
  try {
    await removeMember(
      await getDb(),
      access.ctx.organization.id,
      parsed.data.userId,
      access.actor,
      access.ctx.role,
    );
  } catch (e) {
    return failure(e);
  }
  revalidatePath(`/${access.ctx.organization.slug}`, "layout");
  return { ok: true, message: "Member removed." };
}
