// zod issues -> the field paths a client sees in a 422 problem document.

import type { z } from "zod";
import type { FieldIssue } from "@/lib/errors";

export function toFieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.slice(0, 50).map((i) => ({
    path: [prefix, ...i.path.map(String)].filter((p) => p !== undefined && p !== "").join("."),
    message: i.message,
  }));
}
