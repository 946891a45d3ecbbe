"use client";
// The one time a key is shown: full key, copy button, and a plain warning. Used by both the
// create and the rotate dialogs. The parent asks before closing while `copied` is false; the
// helpers below hold that state and the step that shows the key.
import { Check, Copy, TriangleAlert } from "lucide-react";
import { type ReactNode, useCallback, useState } from "react";
import { Button } from "@/components/ui/button";

/** What is shown once: an API key (stored hashed) or a webhook signing secret (stored sealed). */
export type SecretKind = "key" | "webhook-secret";

const WARNINGS: Record<SecretKind, ReactNode> = {
  key: (
    <>
      Copy this key now. It is shown <strong>only once</strong>: Keyward stores a hash, not the key,
      and cannot show it again. If you lose it, rotate the key.
    </>
  ),
  "webhook-secret": (
    <>
      Copy this signing secret now and give it to the receiver. It is shown{" "}
      <strong>only once</strong>; if you lose it, rotate the secret.
    </>
  ),
};

export function KeySecret({
  secret,
  onCopied,
  copied,
  kind = "key",
}: {
  secret: string;
  copied: boolean;
  onCopied: () => void;
  kind?: SecretKind;
}) {
  const [failed, setFailed] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setFailed(false);
      onCopied();
    } catch {
      // Clipboard blocked (non-secure context): select the text for a manual copy.
      setFailed(true);
      const el = document.getElementById("key-secret-value");
      if (el) window.getSelection()?.selectAllChildren(el);
    }
  }
  return (
    <div className="space-y-3">
      <div
        role="note"
        className="flex gap-2 rounded-md border border-warning/40 bg-warning-subtle p-3 text-sm text-warning"
      >
        <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden="true" />
        <p>{WARNINGS[kind]}</p>
      </div>
      <div className="flex items-stretch gap-2">
        <code
          id="key-secret-value"
          data-testid="key-secret"
          onCopy={onCopied}
          className="min-w-0 flex-1 break-all rounded-md border border-border bg-muted px-3 py-2 font-mono text-sm select-all"
        >
          {secret}
        </code>
        <Button
          variant={copied ? "secondary" : "primary"}
          onClick={copy}
          aria-label={copied ? "Copied" : kind === "key" ? "Copy key" : "Copy secret"}
          data-testid="copy-key"
          className="h-auto"
        >
          {copied ? (
            <Check className="size-4" aria-hidden="true" />
          ) : (
            <Copy className="size-4" aria-hidden="true" />
          )}
          <span className="hidden sm:inline">{copied ? "Copied" : "Copy"}</span>
        </Button>
      </div>
      {failed ? (
        <p className="text-xs text-danger">
          The browser blocked the clipboard. The key is selected: press Ctrl+C (⌘C) to copy it.
        </p>
      ) : null}
    </div>
  );
}

/** Asks before a dialog showing an uncopied key closes. */
export function confirmDiscardKey(copied: boolean, what = "key"): boolean {
  if (copied) return true;
  return window.confirm(
    `You have not copied the ${what}. It will not be shown again. Close anyway?`,
  );
}

/**
 * The state of a dialog that may show a key once: a fresh form (and action state) each time it
 * opens, whether the key is shown, and whether it was copied; `confirmClose` asks before closing
 * on an uncopied key.
 */
export function useCopyOnceDialog(what = "key") {
  const [generation, setGeneration] = useState(0);
  const [copied, setCopied] = useState(false);
  const [shown, setShown] = useState(false);
  const markCopied = useCallback(() => setCopied(true), []);
  const markShown = useCallback(() => setShown(true), []);
  const reset = useCallback(() => {
    setGeneration((g) => g + 1);
    setCopied(false);
    setShown(false);
  }, []);
  const confirmClose = () => !shown || confirmDiscardKey(copied, what);
  return { generation, copied, shown, markCopied, markShown, reset, confirmClose };
}

/** The step after a create or a rotate: the key, once, and a close button. */
export function KeyShownStep({
  secret,
  copied,
  onCopied,
  onDone,
  children,
  kind = "key",
}: {
  secret: string;
  copied: boolean;
  onCopied: () => void;
  onDone: () => void;
  children?: ReactNode;
  kind?: SecretKind;
}) {
  return (
    <div className="space-y-4">
      {children}
      <KeySecret secret={secret} copied={copied} onCopied={onCopied} kind={kind} />
      <div className="flex justify-end">
        <Button variant={copied ? "primary" : "outline"} onClick={onDone} data-testid="key-done">
          {copied ? "Done" : "I have stored it, close"}
        </Button>
      </div>
    </div>
  );
}
