"use server";
// Links from mail: confirming an email address, asking for a new confirmation link, and
// accepting or declining an invitation. The token comes from the form (the page put it there
// from its URL); the services check it, once.
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { auth } from "@/auth";
import { clientAddress } from "@/lib/auth/client-address";
import { isKeywardError } from "@/lib/errors";
import { userActor } from "@/lib/services/actor";
import { type ActionState, refused } from "../(dashboard)/_lib/action-state";
import {
  acceptInvitation,
  confirmEmailVerification,
  declineInvitation,
  sendEmailVerification,
} from "../(dashboard)/_lib/data";

export type AccountActionState = ActionState;

async function sessionUserId(): Promise<string | null> {
  const session = await auth();
  return session?.user?.id ?? null;
}

export async function confirmEmailAction(
  _prev: AccountActionState,
  form: FormData,
): Promise<AccountActionState> {
  try {
    const { email } = await confirmEmailVerification(form.get("token"));
    return { ok: true, message: `${email} is confirmed.` };
  } catch (e) {
    return refused(e);
  }
}

export async function resendVerificationAction(
  _prev: AccountActionState,
  _form: FormData,
): Promise<AccountActionState> {
  const userId = await sessionUserId();
  if (!userId) return { ok: false, message: "Your session ended. Sign in again." };
  try {
    const r = await sendEmailVerification(userId);
    if (r.status === "already_verified") return { ok: true, message: "Your email is confirmed." };
    if (r.status === "mail_failed") {
      return { ok: false, message: "The mail could not be sent. Try again in a few minutes." };
    }
    return { ok: true, message: `A new link was sent to ${r.email}.` };
  } catch (e) {
    if (isKeywardError(e) && e.code === "RATE_LIMITED") {
      return { ok: false, message: "Too many links asked for. Try again in an hour." };
    }
    return refused(e);
  }
}

export async function acceptInvitationAction(
  _prev: AccountActionState,
  form: FormData,
): Promise<AccountActionState> {
  const userId = await sessionUserId();
  if (!userId) return { ok: false, message: "Sign in to accept this invitation." };
  let slug: string;
  try {
    const ip = clientAddress(await headers());
    ({ organizationSlug: slug } = await acceptInvitation(
      form.get("token"),
      userId,
      userActor(userId, ip),
    ));
  } catch (e) {
    return refused(e);
  }
  redirect(`/${slug}/keys`);
}

export async function declineInvitationAction(
  _prev: AccountActionState,
  form: FormData,
): Promise<AccountActionState> {
  const userId = await sessionUserId();
  const ip = clientAddress(await headers());
  try {
    const { organizationName } = await declineInvitation(
      form.get("token"),
      userId ? userActor(userId, ip) : { type: "system", ip },
    );
    return { ok: true, message: `You declined the invitation to ${organizationName}.` };
  } catch (e) {
    return refused(e);
  }
}
