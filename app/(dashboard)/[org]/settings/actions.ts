"use server";
// Organization settings: rename, members (change role, remove) and invitations (invite by email,
// resend, revoke). Each goes through `adminAction`: session, membership and ADMIN role, zod, the
// service; the services enforce who may touch OWNER and keep one owner.
import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { Actor } from "@/lib/services/actor";
import { EmailSchema, OrganizationNameSchema, RoleSchema } from "@/lib/validation/accounts";
import { KeyLifetimeFieldSchema } from "@/lib/validation/keys";
import { EMAIL_ALERTS } from "@/lib/validation/rules";
import { authorizeMember, type MemberContext } from "../../_lib/access";
import { type ActionState, invalid, refused } from "../../_lib/action-state";
import {
  changeMemberRole,
  createInvitation,
  removeMember,
  renameOrganization,
  resendInvitation,
  revokeInvitation,
  setEmailAlerts,
  setKeyPolicy,
  setOrganizationSpendLimit,
} from "../../_lib/data";

export type SettingsState = ActionState;

type Access = { ctx: MemberContext; actor: Actor };

/**
 * One settings action: an admin's access, `schema` over `raw` (refused as field errors when
 * `raw` is shown back, else as one message), `run` with the service's refusal mapped, then
 * `revalidate` ("layout": the whole organization, since the nav shows names and roles).
 */
async function adminAction<S extends z.ZodType>(
  form: FormData,
  schema: S,
  raw: Record<string, unknown>,
  run: (input: z.infer<S>, access: Access) => Promise<SettingsState>,
  options: { revalidate: "settings" | "layout"; showValues?: boolean },
): Promise<SettingsState> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return access;
  const values = options.showValues ? raw : undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return values
      ? invalid(parsed.error, values)
      : { ok: false, message: z.prettifyError(parsed.error) };
  }
  let state: SettingsState;
  try {
    state = await run(parsed.data, access);
  } catch (e) {
    return refused(e, values);
  }
  const slug = access.ctx.organization.slug;
  if (options.revalidate === "layout") revalidatePath(`/${slug}`, "layout");
  else revalidatePath(`/${slug}/settings`);
  return state;
}

const checkbox = z.enum(["on", ""]).transform((v) => v === "on");

/** The key policy; the service refuses anyone but an owner (FORBIDDEN, shown as the message). */
export async function setKeyPolicyAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const values = {
    maxKeyLifetimeDays: String(form.get("maxKeyLifetimeDays") ?? ""),
    keyExpiryRequired: String(form.get("keyExpiryRequired") ?? ""),
    liveKeysAdminsOnly: String(form.get("liveKeysAdminsOnly") ?? ""),
  };
  return adminAction(
    form,
    z.object({
      maxKeyLifetimeDays: KeyLifetimeFieldSchema,
      keyExpiryRequired: checkbox,
      liveKeysAdminsOnly: checkbox,
    }),
    values,
    async (policy, { ctx, actor }) => {
      await setKeyPolicy(ctx.organization.id, policy, actor, ctx.role);
      return { ok: true, message: "Key policy saved.", values };
    },
    { revalidate: "settings", showValues: true },
  );
}

const MAIL_FAILED = "but the mail could not be sent. Use Resend in the list below.";

export async function renameOrganizationAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const values = { name: String(form.get("name") ?? "") };
  return adminAction(
    form,
    z.object({ name: OrganizationNameSchema }),
    values,
    async ({ name }, { ctx, actor }) => {
      await renameOrganization(ctx.organization.id, name, actor, ctx.role);
      return { ok: true, message: "Organization renamed.", values };
    },
    { revalidate: "layout", showValues: true },
  );
}

/** The organization's monthly spend cap (owners; the service checks the role and the value). */
export async function setSpendLimitAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const values = { spendLimitUsd: String(form.get("spendLimitUsd") ?? "").trim() };
  return adminAction(
    form,
    z.object({ spendLimitUsd: z.string() }),
    values,
    async ({ spendLimitUsd }, { ctx, actor }) => {
      const cap = spendLimitUsd === "" ? null : spendLimitUsd;
      await setOrganizationSpendLimit(ctx.organization.id, cap, actor, ctx.role);
      return { ok: true, message: cap ? "Spend limit saved." : "Spend limit removed.", values };
    },
    { revalidate: "settings", showValues: true },
  );
}

export async function inviteMemberAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const values = {
    email: String(form.get("email") ?? "").trim(),
    role: String(form.get("role") ?? ""),
  };
  return adminAction(
    form,
    z.object({ email: EmailSchema, role: RoleSchema }),
    values,
    async (input, { ctx, actor }) => {
      const { mailed } = await createInvitation(ctx.organization.id, input, actor, ctx.role);
      const who = `${input.email} invited as ${input.role.toLowerCase()}`;
      return mailed
        ? { ok: true, message: `${who}.` }
        : { ok: false, message: `${who}, ${MAIL_FAILED}`, values: { email: "", role: input.role } };
    },
    { revalidate: "settings", showValues: true },
  );
}

const InvitationInput = z.object({ invitationId: z.uuid("Unknown invitation.") });

export async function resendInvitationAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  return adminAction(
    form,
    InvitationInput,
    { invitationId: form.get("invitationId") },
    async ({ invitationId }, { ctx, actor }) => {
      const r = await resendInvitation(ctx.organization.id, invitationId, actor, ctx.role);
      const email = r.invitation.email;
      return r.mailed
        ? { ok: true, message: `A new link was sent to ${email}.` }
        : { ok: false, message: `A new link was made for ${email}, ${MAIL_FAILED}` };
    },
    { revalidate: "settings" },
  );
}

export async function revokeInvitationAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  return adminAction(
    form,
    InvitationInput,
    { invitationId: form.get("invitationId") },
    async ({ invitationId }, { ctx, actor }) => {
      await revokeInvitation(ctx.organization.id, invitationId, actor, ctx.role);
      return { ok: true, message: "Invitation revoked." };
    },
    { revalidate: "settings" },
  );
}

const MemberInput = z.object({ userId: z.uuid("Unknown member.") });

export async function changeRoleAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  return adminAction(
    form,
    MemberInput.extend({ role: RoleSchema }),
    { userId: form.get("userId"), role: form.get("role") },
    async ({ userId, role }, { ctx, actor }) => {
      await changeMemberRole(ctx.organization.id, userId, role, actor, ctx.role);
      return { ok: true, message: "Role changed." };
    },
    { revalidate: "layout" },
  );
}

export async function removeMemberAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  return adminAction(
    form,
    MemberInput,
    { userId: form.get("userId") },
    async ({ userId }, { ctx, actor }) => {
      await removeMember(ctx.organization.id, userId, actor, ctx.role);
      return { ok: true, message: "Member removed." };
    },
    { revalidate: "layout" },
  );
}

/** The signed-in owner's or admin's own alert emails: one checkbox per alert (`alert` values). */
export async function emailAlertsAction(
  _prev: SettingsState,
  form: FormData,
): Promise<SettingsState> {
  const raw = { alerts: form.getAll("alert").map(String) };
  return adminAction(
    form,
    z.object({
      alerts: z.array(z.enum(EMAIL_ALERTS, { error: "Not an alert Keyward sends." })).max(20),
    }),
    raw,
    async ({ alerts }, { ctx }) => {
      const chosen = await setEmailAlerts(
        { organizationId: ctx.organization.id, userId: ctx.user.id, role: ctx.role },
        alerts,
      );
      return {
        ok: true,
        message: chosen.length
          ? `Saved: you get ${chosen.length} kind${chosen.length === 1 ? "" : "s"} of alert email.`
          : "Saved: you get no alert emails.",
      };
    },
    { revalidate: "settings" },
  );
}
