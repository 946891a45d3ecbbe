"use client";
// The allowlist, external id and metadata fields of the create and edit dialogs.
import { errorProps, Field, TextField } from "@/components/ui/field";
import { fieldClasses } from "@/components/ui/input";
import { EXTERNAL_ID_MAX, MAX_ALLOWED_CIDRS, META_MAX_BYTES } from "@/lib/validation/rules";

export interface RestrictionValues {
  allowedCidrs: string;
  externalId: string;
  meta: string;
}

/** A key's restrictions as the form shows them. */
export function restrictionText(key: {
  allowedCidrs: string[];
  externalId: string | null;
  meta: Record<string, unknown> | null;
}): RestrictionValues {
  return {
    allowedCidrs: key.allowedCidrs.join("\n"),
    externalId: key.externalId ?? "",
    meta: key.meta ? JSON.stringify(key.meta, null, 2) : "",
  };
}

export function RestrictionFields({
  idPrefix,
  text,
  errors,
}: {
  idPrefix: string;
  text: (name: keyof RestrictionValues) => string;
  errors: Record<string, string[] | undefined>;
}) {
  const cidrsId = `${idPrefix}-cidrs`;
  const metaId = `${idPrefix}-meta`;
  return (
    <>
      <Field
        id={cidrsId}
        label="Allowed networks (optional)"
        error={errors.allowedCidrs?.join(" ")}
        hint={`One IPv4 or IPv6 address or CIDR per line, at most ${MAX_ALLOWED_CIDRS}. Empty: any address.`}
      >
        <textarea
          id={cidrsId}
          name="allowedCidrs"
          rows={3}
          spellCheck={false}
          placeholder={"203.0.113.0/24\n2001:db8::/32"}
          className={`${fieldClasses} font-mono`}
          defaultValue={text("allowedCidrs")}
          {...errorProps(cidrsId, errors.allowedCidrs)}
        />
      </Field>
      <TextField
        id={`${idPrefix}-external-id`}
        name="externalId"
        label="External id (optional)"
        maxLength={EXTERNAL_ID_MAX}
        autoComplete="off"
        defaultValue={text("externalId")}
        error={errors.externalId}
        hint="Your own id for the key's owner; verify returns it."
      />
      <Field
        id={metaId}
        label="Metadata (optional)"
        error={errors.meta}
        hint={`A JSON object up to ${META_MAX_BYTES} bytes; verify returns it.`}
      >
        <textarea
          id={metaId}
          name="meta"
          rows={3}
          spellCheck={false}
          placeholder='{"plan": "pro"}'
          className={`${fieldClasses} font-mono`}
          defaultValue={text("meta")}
          {...errorProps(metaId, errors.meta)}
        />
      </Field>
    </>
  );
}
