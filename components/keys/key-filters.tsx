import { Search } from "lucide-react";
import { buttonClasses } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Select } from "@/components/ui/select";

/** A GET form: filters live in the URL's search params (nothing secret goes there). */
export function KeyFilters({
  environment,
  status,
  q,
}: {
  environment?: string;
  status?: string;
  q?: string;
}) {
  return (
    <search>
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
        <div className="flex gap-2">
          <div className="min-w-0 flex-1 sm:flex-none">
            <label htmlFor="key-env" className="sr-only">
              Environment
            </label>
            <Select
              id="key-env"
              name="env"
              defaultValue={environment ?? ""}
              className="w-full sm:w-44"
            >
              <option value="">All environments</option>
              <option value="live">Live</option>
              <option value="test">Test</option>
            </Select>
          </div>
          <div className="min-w-0 flex-1 sm:flex-none">
            <label htmlFor="key-status" className="sr-only">
              Status
            </label>
            <Select
              id="key-status"
              name="status"
              defaultValue={status ?? ""}
              className="w-full sm:w-44"
            >
              <option value="">All statuses</option>
              <option value="active">Active</option>
              <option value="revoked">Revoked</option>
              <option value="expired">Expired</option>
            </Select>
          </div>
          <button type="submit" className={buttonClasses("secondary")}>
            Filter
          </button>
        </div>
      </form>
    </search>
  );
}
