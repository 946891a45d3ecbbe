"use server";
import { headers } from "next/headers";
// Sign-in, sign-up and sign-out. Credentials travel only in POST bodies.
import { AuthError, CredentialsSignin } from "next-auth";
import { z } from "zod";
import { signIn, signOut } from "@/auth";
import { clientAddress } from "@/lib/auth/client-address";
import { PasswordWorkBusy } from "@/lib/auth/password";
import { signInThrottle } from "@/lib/auth/sign-in-throttle";
import { isKeywardError } from "@/lib/errors";
import { reserve, retryAfterSeconds } from "@/lib/ratelimit/policies";
import {
  EmailSchema,
  OrganizationNameSchema,
  PASSWORD_MAX_LENGTH,
  PasswordSchema,
  PersonNameSchema,
} from "@/lib/validation/accounts";
import { type ActionState, invalid } from "../(dashboard)/_lib/action-state";
import { sendEmailVerification, signUp } from "../(dashboard)/_lib/data";
import { afterSignInPath, requestOrigin } from "./redirect-target";

export type AuthFormState = ActionState;

const SignInInput = z.object({
  email: EmailSchema,
  password: z.string().min(1, "Enter your password.").max(PASSWORD_MAX_LENGTH),
});

function waitText(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return minutes <= 1 ? "a minute" : `${minutes} minutes`;
}

function throttledMessage(seconds: number): string {
  return `Too many failed sign-ins. Try again in ${waitText(seconds || 60)}.`;
}

const BUSY_MESSAGE = "Too many sign-ins at once. Try again in a few seconds.";

export async function signInAction(_prev: AuthFormState, form: FormData): Promise<AuthFormState> {
  const email = String(form.get("email") ?? "").trim();
  const values = { email };
  const parsed = SignInInput.safeParse({ email, password: form.get("password") ?? "" });
  if (!parsed.success) return invalid(parsed.error, values);
  const address = clientAddress(await headers());
  try {
    // The credentials provider reserves the attempt (per email and address) before it checks
    // the password, and refuses it with code rate_limited when no slot is free.
    await signIn("credentials", {
      email: parsed.data.email,
      password: parsed.data.password,
      redirectTo: afterSignInPath(form.get("callbackUrl"), await requestOrigin()),
    });
  } catch (e) {
    // signIn throws Next's redirect on success: anything that is not an AuthError goes on.
    if (!(e instanceof AuthError)) throw e;
    if (e instanceof CredentialsSignin && e.code === "rate_limited") {
      const wait = await signInThrottle().retryAfter(parsed.data.email, address);
      return { ok: false, message: throttledMessage(wait), values };
    }
    if (e instanceof CredentialsSignin && e.code === "busy") {
      return { ok: false, message: BUSY_MESSAGE, values };
    }
    if (e instanceof CredentialsSignin) {
      return { ok: false, message: "Wrong email or password.", values };
    }
    return { ok: false, message: "Sign-in failed. Try again.", values };
  }
  return { ok: true };
}

const SignUpInput = z.object({
  name: PersonNameSchema,
  email: EmailSchema,
  password: PasswordSchema,
  organizationName: OrganizationNameSchema,
});

export async function signUpAction(_prev: AuthFormState, form: FormData): Promise<AuthFormState> {
  const raw = {
    name: String(form.get("name") ?? ""),
    email: String(form.get("email") ?? "").trim(),
    password: String(form.get("password") ?? ""),
    organizationName: String(form.get("organizationName") ?? ""),
  };
  const values = { name: raw.name, email: raw.email, organizationName: raw.organizationName };
  const parsed = SignUpInput.safeParse(raw);
  if (!parsed.success) return invalid(parsed.error, values);
  const address = clientAddress(await headers());
  // Every sign-up counts against its address (each one hashes a password), before any work.
  const slot = await reserve("signUpPerAddress", address);
  if (!slot.allowed) {
    const wait = waitText(retryAfterSeconds(slot));
    return {
      ok: false,
      message: `Too many sign-ups from your network. Try again in ${wait}.`,
      values,
    };
  }
  let slug: string;
  try {
    const created = await signUp(parsed.data, { type: "user", ip: address });
    slug = created.organization.slug;
    // The confirmation link; a failed mail is logged and the dashboard banner offers a resend.
    await sendEmailVerification(created.user.id).catch((e) => {
      console.error(`keyward: verification mail after sign-up failed: ${(e as Error).message}`);
    });
  } catch (e) {
    if (e instanceof PasswordWorkBusy) {
      await slot.release(); // nothing was done: the attempt does not count
      return { ok: false, message: BUSY_MESSAGE, values };
    }
    if (isKeywardError(e) && e.code === "CONFLICT") {
      return {
        ok: false,
        fieldErrors: { email: ["An account with this email exists. Sign in instead."] },
        values,
      };
    }
    throw e;
  }
  try {
    await signIn("credentials", {
      email: parsed.data.email,
      password: parsed.data.password,
      redirectTo: `/${slug}/keys`,
    });
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    return { ok: false, message: "Your account exists; sign in to continue.", values };
  }
  return { ok: true };
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/login" });
}
