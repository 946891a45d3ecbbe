// Email verification: sign-up sends a one-time link (24 hours); following it marks the user's
// email verified. Until then the user can sign in and use their own organization, but cannot
// join another (invitation-service refuses). Operator-created and OAuth-verified users are
// verified when created.
import { createOneTimeToken, hashToken, isTokenFormat } from "@/lib/auth/one-time-token";
import type { Db } from "@/lib/db";
import { KeywardError, notFound } from "@/lib/errors";
import { deliverMail, type MailSender, publicUrl } from "@/lib/mail";
import { assertRateLimit } from "@/lib/ratelimit/policies";
import { emailVerificationRepository } from "@/lib/repositories/email-verification-repository";
import { userRepository } from "@/lib/repositories/user-repository";

export const EMAIL_VERIFICATION_TTL_MS = 24 * 60 * 60 * 1000;

export interface MailOptions {
  sender?: MailSender;
  now?: Date;
}

export type SendVerificationResult =
  | { status: "sent" | "mail_failed"; email: string }
  | { status: "already_verified"; email: string };

/**
 * Sends a new verification link to the user's email, voiding older links. The token is stored
 * first, so a failed mail leaves nothing half-done: the user can ask for another ("resend").
 * RATE_LIMITED after 5 mails an hour per user.
 */
export async function sendEmailVerification(
  db: Db,
  userId: string,
  options: MailOptions = {},
): Promise<SendVerificationResult> {
  const user = await userRepository.getById(db, userId);
  if (!user) throw notFound("user");
  if (user.emailVerified) return { status: "already_verified", email: user.email };
  await assertRateLimit("verificationMailPerUser", user.id);
  const now = options.now ?? new Date();
  const { token, tokenHash } = createOneTimeToken();
  await db.$transaction(async (tx) => {
    await emailVerificationRepository.voidUnused(tx, user.id, now);
    await emailVerificationRepository.create(tx, {
      userId: user.id,
      email: user.email,
      tokenHash,
      expiresAt: new Date(now.getTime() + EMAIL_VERIFICATION_TTL_MS),
    });
  });
  const link = publicUrl(`/verify-email/${token}`);
  const sent = await deliverMail(
    {
      to: user.email,
      subject: "Confirm your email for Keyward",
      text: [
        `Hello${user.name ? ` ${user.name}` : ""},`,
        "",
        "Confirm that this is your email address by opening this link:",
        "",
        link,
        "",
        "The link works once and expires in 24 hours. If you did not create a Keyward account, ignore this mail.",
      ].join("\n"),
      link,
    },
    { sender: options.sender },
  );
  return { status: sent ? "sent" : "mail_failed", email: user.email };
}

export type VerificationLinkState = "valid" | "invalid" | "expired" | "used";

/** What a verification link would do, without using it (for the page that asks to confirm). */
export async function checkEmailVerification(
  db: Db,
  token: unknown,
  now = new Date(),
): Promise<{ state: VerificationLinkState; email?: string }> {
  if (!isTokenFormat(token)) return { state: "invalid" };
  const row = await emailVerificationRepository.getByTokenHash(db, hashToken(token));
  if (!row) return { state: "invalid" };
  if (row.usedAt) return { state: "used", email: row.email };
  if (row.expiresAt <= now) return { state: "expired", email: row.email };
  return { state: "valid", email: row.email };
}

/**
 * Uses a verification link: the token must exist, be unused and unexpired, and name the user's
 * current email. Works once (a second use, even concurrent, is refused).
 */
export async function confirmEmailVerification(
  db: Db,
  token: unknown,
  now = new Date(),
): Promise<{ userId: string; email: string }> {
  const invalid = () =>
    new KeywardError("NOT_FOUND", "This confirmation link is not valid. Ask for a new one.");
  if (!isTokenFormat(token)) throw invalid();
  return db.$transaction(async (tx) => {
    const row = await emailVerificationRepository.getByTokenHash(tx, hashToken(token));
    if (!row) throw invalid();
    if (row.usedAt) {
      throw new KeywardError("CONFLICT", "This confirmation link was already used.");
    }
    if (row.expiresAt <= now) {
      throw new KeywardError("CONFLICT", "This confirmation link has expired. Ask for a new one.");
    }
    const user = await userRepository.getById(tx, row.userId);
    if (!user || user.email !== row.email) throw invalid();
    if (!(await emailVerificationRepository.markUsed(tx, row.id, now))) {
      throw new KeywardError("CONFLICT", "This confirmation link was already used.");
    }
    if (!user.emailVerified) await userRepository.markEmailVerified(tx, user.id, now);
    return { userId: user.id, email: user.email };
  });
}
