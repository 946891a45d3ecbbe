"use client";
import { useActionState } from "react";
import {
  createOrganizationAction,
  type NewOrgState,
} from "@/app/(dashboard)/organizations/actions";
import { SubmitButton } from "@/components/ui/button";
import { FormMessage, TextField } from "@/components/ui/field";

export function NewOrganizationForm({ defaultEmail }: { defaultEmail: string }) {
  const [state, action, pending] = useActionState<NewOrgState, FormData>(createOrganizationAction, {
    ok: false,
  });
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} className="space-y-4" noValidate>
      <TextField
        id="name"
        name="name"
        label="Name"
        required
        defaultValue={state.values?.name}
        error={errors.name}
      />
      <TextField
        id="email"
        name="email"
        label="Contact email"
        type="email"
        required
        defaultValue={state.values?.email ?? defaultEmail}
        error={errors.email}
        hint="One organization per email."
      />
      <FormMessage>{state.message}</FormMessage>
      <SubmitButton className="w-full" pending={pending} pendingLabel="Creating…">
        Create organization
      </SubmitButton>
    </form>
  );
}
