"use client";
// "Email alerts" on the Settings page: the signed-in owner or admin picks what they are mailed
// about (quota thresholds, key expiry, a disabled webhook endpoint).
import { emailAlertsAction } from "@/app/(dashboard)/[org]/settings/actions";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { useActionForm } from "@/components/ui/use-action-form";
import { EMAIL_ALERT_LABELS, EMAIL_ALERTS, type EmailAlert } from "@/lib/validation/rules";

export function EmailAlertsForm({ slug, chosen }: { slug: string; chosen: EmailAlert[] }) {
  const { action, pending, refusal } = useActionForm(emailAlertsAction, { toasts: true });
  return (
    <form action={action} className="flex flex-col gap-3" data-testid="email-alerts-form">
      <input type="hidden" name="org" value={slug} />
      <fieldset className="flex flex-col gap-2">
        <legend className="sr-only">Email me when</legend>
        {EMAIL_ALERTS.map((alert) => (
          <Checkbox
            key={alert}
            id={`alert-${alert}`}
            name="alert"
            value={alert}
            defaultChecked={chosen.includes(alert)}
            label={EMAIL_ALERT_LABELS[alert]}
          />
        ))}
      </fieldset>
      {refusal ? (
        <p className="text-sm text-danger" data-testid="email-alerts-error">
          {refusal}
        </p>
      ) : null}
      <div>
        <Button type="submit" disabled={pending} variant="secondary">
          {pending ? "Saving…" : "Save alerts"}
        </Button>
      </div>
    </form>
  );
}
