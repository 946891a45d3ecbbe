import type { ReactNode } from "react";

export function StatTiles({
  items,
}: {
  items: Array<{ label: string; value: ReactNode; hint?: string }>;
}) {
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4 xl:grid-cols-8" data-testid="stat-tiles">
      {items.map((i) => (
        <div key={i.label} className="min-w-0 rounded-lg border border-border bg-card p-3">
          <dt className="truncate text-xs text-muted-foreground" title={i.hint}>
            {i.label}
          </dt>
          <dd className="mt-1 truncate text-lg font-semibold tabular-nums">{i.value}</dd>
        </div>
      ))}
    </dl>
  );
}
