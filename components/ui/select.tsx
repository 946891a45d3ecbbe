import type { SelectHTMLAttributes } from "react";
import { cn } from "./cn";
import { sized } from "./input";

export function Select({ className, ...props }: SelectHTMLAttributes<HTMLSelectElement>) {
  return <select className={cn(sized(className), "pr-8")} {...props} />;
}
