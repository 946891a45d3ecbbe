// The input check every key verb shares: a zod schema's failure as the service's 422.
import { validationFailed } from "@/lib/errors";
import { toFieldIssues } from "@/lib/validation/issues";
import type { z } from "@/lib/validation/zod";

export function check<S extends z.ZodType>(schema: S, value: unknown, path: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationFailed(toFieldIssues(r.error, path));
  return r.data;
}
