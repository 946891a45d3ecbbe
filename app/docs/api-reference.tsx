"use client";
// The Scalar API reference, bundled by the app (no CDN, no web fonts, no telemetry, no agent): it renders
// the document the page hands it. Dark mode follows the OS until the reader uses the toggle.
import { ApiReferenceReact } from "@scalar/api-reference-react";
import "@scalar/api-reference-react/style.css";

// Scalar's default grey text and HTTP method colours fall short of WCAG AA contrast for small text
// (#757575 grey, green and orange on white; red on black); these keep its look and pass (checked
// in light and dark by e2e/docs.spec.ts with axe). `:root .x` outranks the theme's own `.x`.
const customCss = `
:root .light-mode {
  --scalar-color-2: #4b5563;
  --scalar-color-3: #52525b;
  --scalar-color-green: #065f46;
  --scalar-color-blue: #1d4ed8;
  --scalar-color-orange: #b45309;
  --scalar-color-yellow: #a16207;
  --scalar-color-red: #b91c1c;
  --scalar-color-purple: #6d28d9;
}
:root .dark-mode {
  --scalar-color-2: #c4c4c8;
  --scalar-color-3: #a1a1aa;
  --scalar-color-green: #4ade80;
  --scalar-color-blue: #60a5fa;
  --scalar-color-orange: #fb923c;
  --scalar-color-yellow: #facc15;
  --scalar-color-red: #f87171;
  --scalar-color-purple: #c084fc;
}
`;

export function ApiReference({ document }: { document: Record<string, unknown> }) {
  return (
    <ApiReferenceReact
      configuration={{
        content: document,
        withDefaultFonts: false,
        telemetry: false,
        showDeveloperTools: "never",
        mcp: { disabled: true },
        // No "ask the agent" box: it would send questions to Scalar's service.
        agent: { disabled: true },
        hideClientButton: true,
        defaultOpenAllTags: true,
        customCss,
      }}
    />
  );
}
