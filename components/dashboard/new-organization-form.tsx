"use client";
import { createOrganizationAction } from "@/app/(dashboard)/organizations/actions";
import { SubmitButton } from "@/components/ui/button";
import { FormMessage, TextField } from "@/components/ui/field";
import { useActionForm } from "@/components/ui/use-action-form";

export function NewOrganizationForm({ defaultEmail }: { defaultEmail: string }) {
  const { action, pending, errors, text, refusal } = useActionForm(createOrganizationAction);
  return (
    <form action={action} className="space-y-4" noValidate>
      <TextField
        id="name"
        name="name"
        label="Name"
        required
        defaultValue={text("name")}
        error={errors.name}
      />
      <TextField
        id="email"
        name="email"
        label="Contact email"
        type="email"
        required
        defaultValue={text("email", defaultEmail)}
        error={errors.email}
        hint="One organization per email."
      />
      <FormMessage>{refusal}</FormMessage>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Creating…">
        Create organization
      </SubmitButton>
    </form>
  );
}
