"use client";
// The organization's leak policy on Settings: owners choose, everyone else sees it.
import { setLeakPolicyAction } from "@/app/(dashboard)/[org]/settings/leak-actions";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { Select } from "@/components/ui/select";
import { useActionForm } from "@/components/ui/use-action-form";
import { LEAK_ACTION_LABELS, LEAK_ACTIONS, type LeakActionName } from "@/lib/validation/rules";

export function LeakPolicyForm({
  slug,
  leakAction,
  canEdit,
}: {
  slug: string;
  leakAction: LeakActionName;
  canEdit: boolean;
}) {
  const { action, pending, errors, text } = useActionForm(setLeakPolicyAction, { toasts: true });
  return (
    <form action={action} className="flex flex-col gap-3 sm:flex-row sm:items-end" noValidate>
      <input type="hidden" name="org" value={slug} />
      <div className="flex-1">
        <Label htmlFor="leak-action" className="mb-1 block">
          When one of our keys is reported leaked
        </Label>
        <Select
          id="leak-action"
          name="leakAction"
          defaultValue={text("leakAction", leakAction)}
          disabled={!canEdit}
          aria-invalid={errors.leakAction ? true : undefined}
          data-testid="leak-action"
        >
          {LEAK_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {LEAK_ACTION_LABELS[a]}
            </option>
          ))}
        </Select>
        {errors.leakAction ? <p className="mt-1 text-xs text-danger">{errors.leakAction}</p> : null}
      </div>
      {canEdit ? (
        <Button type="submit" disabled={pending} variant="secondary">
          {pending ? "Saving…" : "Save"}
        </Button>
      ) : null}
    </form>
  );
}
