import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { Input } from "@/components/ui/input";
import type { DateRange } from "@/lib/url-state/date-range";

/** 7/30/90 days as links, a custom range as a GET form: the range lives in search params. */
export function RangePicker({ basePath, range }: { basePath: string; range: DateRange }) {
  const presets = [
    { value: "7d", label: "7 days" },
    { value: "30d", label: "30 days" },
    { value: "90d", label: "90 days" },
  ];
  return (
    <div className="flex flex-col gap-2 lg:flex-row lg:items-center">
      <nav
        className="inline-flex w-fit rounded-md border border-border p-0.5"
        aria-label="Date range"
      >
        {presets.map((p) => (
          <Link
            key={p.value}
            href={`${basePath}?range=${p.value}`}
            aria-current={range.preset === p.value ? "true" : undefined}
            className={cn(
              "rounded px-3 py-1.5 text-sm font-medium",
              range.preset === p.value ? "bg-primary text-primary-foreground" : "hover:bg-muted",
            )}
          >
            {p.label}
          </Link>
        ))}
      </nav>
      <form method="get" className="flex flex-wrap items-center gap-2">
        <input type="hidden" name="range" value="custom" />
        <label htmlFor="range-from" className="sr-only">
          From
        </label>
        <Input
          id="range-from"
          type="date"
          name="from"
          defaultValue={range.from}
          className="h-9 w-[10.5rem]"
        />
        <span className="text-sm text-muted-foreground">to</span>
        <label htmlFor="range-to" className="sr-only">
          To
        </label>
        <Input
          id="range-to"
          type="date"
          name="to"
          defaultValue={range.to}
          className="h-9 w-[10.5rem]"
        />
        <button
          type="submit"
          className={cn(
            buttonClasses(range.preset === "custom" ? "primary" : "secondary", "sm"),
            "h-9",
          )}
        >
          Apply
        </button>
      </form>
    </div>
  );
}
