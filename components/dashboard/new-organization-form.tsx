"use client";
import { useActionState } from "react";
import {
  createOrganizationAction,
  type NewOrgState,
} from "@/app/(dashboard)/organizations/actions";
import { Button } from "@/components/ui/button";
import { errorProps, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

export function NewOrganizationForm({ defaultEmail }: { defaultEmail: string }) {
  const [state, action, pending] = useActionState<NewOrgState, FormData>(createOrganizationAction, {
    ok: false,
  });
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} className="space-y-4" noValidate>
      <Field id="name" label="Name" error={errors.name}>
        <Input
          id="name"
          name="name"
          required
          defaultValue={state.values?.name}
          {...errorProps("name", errors.name)}
        />
      </Field>
      <Field
        id="email"
        label="Contact email"
        error={errors.email}
        hint="One organization per email."
      >
        <Input
          id="email"
          name="email"
          type="email"
          required
          defaultValue={state.values?.email ?? defaultEmail}
          {...errorProps("email", errors.email)}
        />
      </Field>
      {state.message ? <p className="text-sm text-danger">{state.message}</p> : null}
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Creating…" : "Create organization"}
      </Button>
    </form>
  );
}
