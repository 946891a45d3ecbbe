"use client";
// The buttons behind links from mail: confirm an email, resend the confirmation link, accept or
// decline an invitation. Each shows its outcome in place.
import {
  type AccountActionState,
  acceptInvitationAction,
  confirmEmailAction,
  declineInvitationAction,
  resendVerificationAction,
} from "@/app/(auth)/account-actions";
import { Button } from "@/components/ui/button";
import { useActionForm } from "@/components/ui/use-action-form";

function Outcome({ state, testId }: { state: AccountActionState; testId: string }) {
  if (!state.message) return null;
  return (
    <p
      data-testid={testId}
      data-ok={state.ok ? "true" : "false"}
      className={state.ok ? "text-sm text-foreground" : "text-sm text-danger"}
    >
      {state.message}
    </p>
  );
}

export function ConfirmEmailForm({ token }: { token: string }) {
  const { state, action, pending } = useActionForm(confirmEmailAction);
  if (state.ok) {
    return (
      <div className="space-y-3">
        <Outcome state={state} testId="confirm-outcome" />
        <a
          href="/dashboard"
          className="text-sm font-medium text-primary underline-offset-4 hover:underline"
        >
          Go to the dashboard
        </a>
      </div>
    );
  }
  return (
    <form action={action} className="space-y-3">
      <input type="hidden" name="token" value={token} />
      <Outcome state={state} testId="confirm-outcome" />
      <Button type="submit" className="w-full" disabled={pending} data-testid="confirm-email">
        {pending ? "Confirming…" : "Confirm my email"}
      </Button>
    </form>
  );
}

export function ResendVerificationButton() {
  const { state, action, pending } = useActionForm(resendVerificationAction);
  return (
    <form action={action} className="flex flex-wrap items-center gap-2">
      <Button
        type="submit"
        size="sm"
        variant="outline"
        disabled={pending}
        data-testid="resend-verification"
      >
        {pending ? "Sending…" : "Resend link"}
      </Button>
      <Outcome state={state} testId="resend-outcome" />
    </form>
  );
}

export function InvitationResponse({ token, canAccept }: { token: string; canAccept: boolean }) {
  const {
    state: acceptState,
    action: accept,
    pending: accepting,
  } = useActionForm(acceptInvitationAction);
  const {
    state: declineState,
    action: decline,
    pending: declining,
  } = useActionForm(declineInvitationAction);
  if (declineState.ok) return <Outcome state={declineState} testId="invitation-outcome" />;
  return (
    <div className="space-y-3">
      <Outcome state={acceptState} testId="invitation-outcome" />
      <Outcome state={declineState} testId="invitation-outcome" />
      <div className="flex gap-2">
        {canAccept ? (
          <form action={accept} className="flex-1">
            <input type="hidden" name="token" value={token} />
            <Button
              type="submit"
              className="w-full"
              disabled={accepting || declining}
              data-testid="accept-invitation"
            >
              {accepting ? "Joining…" : "Accept"}
            </Button>
          </form>
        ) : null}
        <form
          action={decline}
          className="flex-1"
          onSubmit={(e) => {
            if (!window.confirm("Decline this invitation? The link stops working."))
              e.preventDefault();
          }}
        >
          <input type="hidden" name="token" value={token} />
          <Button
            type="submit"
            variant="outline"
            className="w-full"
            disabled={accepting || declining}
            data-testid="decline-invitation"
          >
            {declining ? "Declining…" : "Decline"}
          </Button>
        </form>
      </div>
    </div>
  );
}
