import { Search } from "lucide-react";
import { buttonClasses } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Select } from "@/components/ui/select";
import { KEY_ATTENTION } from "@/lib/url-state/key-filters";
import { EXTERNAL_ID_MAX } from "@/lib/validation/rules";

/**
 * A select as wide as its longest option from `sm` up (a fixed width cut "All environments" at
 * 1280 px), full width on phones; labelled for screen readers.
 */
function FilterSelect({
  id,
  name,
  label,
  value,
  options,
}: {
  id: string;
  name: string;
  label: string;
  value?: string;
  options: Array<[value: string, label: string]>;
}) {
  return (
    <div className="min-w-0 flex-1 sm:flex-none">
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <Select id={id} name={name} defaultValue={value ?? ""} className="w-full sm:w-auto">
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </Select>
    </div>
  );
}

/** A GET form: filters live in the URL's search params (nothing secret goes there). */
export function KeyFilters({
  environment,
  status,
  q,
  externalId,
  attention,
  error,
}: {
  environment?: string;
  status?: string;
  q?: string;
  externalId?: string;
  attention?: string;
  /** Why the search was not used, shown under the form. */
  error?: string;
}) {
  return (
    <search>
      {error ? (
        <p className="mb-2 text-sm text-danger" data-testid="key-search-error">
          {error}
        </p>
      ) : null}
      <form method="get" className="mb-4 flex flex-col gap-2 sm:flex-row sm:items-end">
        <div className="relative flex-1">
          <label htmlFor="key-search" className="sr-only">
            Search keys by name
          </label>
          <Search
            className="pointer-events-none absolute left-2.5 top-1/2 size-4 -translate-y-1/2 text-muted-foreground"
            aria-hidden="true"
          />
          <Input
            id="key-search"
            name="q"
            type="search"
            placeholder="Search by name"
            defaultValue={q}
            className="pl-8"
          />
        </div>
        <div className="sm:w-44">
          <label htmlFor="key-external-id-filter" className="sr-only">
            External id
          </label>
          <Input
            id="key-external-id-filter"
            name="externalId"
            placeholder="External id"
            maxLength={EXTERNAL_ID_MAX}
            defaultValue={externalId}
          />
        </div>
        <div className="flex flex-wrap gap-2">
          <FilterSelect
            id="key-attention"
            name="attention"
            label="Needs attention"
            value={attention}
            options={[
              ["", "All keys"],
              ...(Object.entries(KEY_ATTENTION) as Array<[string, string]>),
            ]}
          />
          <FilterSelect
            id="key-env"
            name="env"
            label="Environment"
            value={environment}
            options={[
              ["", "All environments"],
              ["live", "Live"],
              ["test", "Test"],
            ]}
          />
          <FilterSelect
            id="key-status"
            name="status"
            label="Status"
            value={status}
            options={[
              ["", "All statuses"],
              ["active", "Active"],
              ["revoked", "Revoked"],
              ["expired", "Expired"],
            ]}
          />
          <button type="submit" className={buttonClasses("secondary")}>
            Filter
          </button>
        </div>
      </form>
    </search>
  );
}
