import type { ReactNode } from "react";
import "@/app/globals.css";
import { Toaster } from "@/components/ui/toaster";

export default function DashboardRootLayout({ children }: { children: ReactNode }) {
  return (
    <>
      {children}
      <Toaster />
    </>
  );
}
