import type { Metadata } from "next";
import Link from "next/link";
import { auth } from "@/auth";
import { InvitationResponse } from "@/components/auth/account-forms";
import { getInvitationByToken, getUser } from "../../../(dashboard)/_lib/data";

export const metadata: Metadata = { title: "Invitation · Keyward" };

const CLOSED: Record<string, string> = {
  expired: "This invitation has expired. Ask an admin of the organization for a new one.",
  accepted: "This invitation was already accepted.",
  declined: "This invitation was declined.",
  revoked: "This invitation was revoked.",
};

const link = "font-medium text-primary underline-offset-4 hover:underline";

export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const [invitation, session] = await Promise.all([getInvitationByToken(token), auth()]);
  if (!invitation) {
    return (
      <div className="space-y-3">
        <h1 className="text-xl font-semibold">Invitation</h1>
        <p className="text-sm text-danger" data-testid="invitation-problem">
          This invitation link is not valid. Ask for a new invitation.
        </p>
      </div>
    );
  }
  const user = session?.user?.id ? await getUser(session.user.id) : null;
  const here = `/invite/${token}`;
  const role = invitation.role.toLowerCase();
  return (
    <div className="space-y-4">
      <h1 className="text-xl font-semibold">Join {invitation.organizationName}</h1>
      <p className="text-sm text-muted-foreground" data-testid="invitation-summary">
        You are invited to{" "}
        <strong className="text-foreground">{invitation.organizationName}</strong> as{" "}
        <strong className="text-foreground" data-testid="invitation-role">
          {role}
        </strong>
        . The invitation is for {invitation.email}.
      </p>
      {invitation.state !== "pending" ? (
        <p className="text-sm text-danger" data-testid="invitation-problem">
          {CLOSED[invitation.state]}
        </p>
      ) : !user ? (
        <>
          <p className="text-sm text-muted-foreground" data-testid="invitation-sign-in">
            To accept,{" "}
            <Link href={`/login?callbackUrl=${encodeURIComponent(here)}`} className={link}>
              sign in
            </Link>{" "}
            or{" "}
            <Link href="/signup" className={link}>
              create an account
            </Link>{" "}
            as {invitation.email}, confirm the address from the mail we send, then open this link
            again.
          </p>
          <InvitationResponse token={token} canAccept={false} />
        </>
      ) : user.email !== invitation.email ? (
        <>
          <p className="text-sm text-danger" data-testid="invitation-problem">
            You are signed in as {user.email}. This invitation is for {invitation.email}: sign out
            and sign in with that address to accept it.
          </p>
          <InvitationResponse token={token} canAccept={false} />
        </>
      ) : (
        <>
          {!user.emailVerified ? (
            <p className="text-sm text-danger" data-testid="invitation-unverified">
              Confirm your email address before you accept: open the link we sent to {user.email}{" "}
              (the dashboard can send a new one).
            </p>
          ) : null}
          <InvitationResponse token={token} canAccept={true} />
        </>
      )}
    </div>
  );
}
