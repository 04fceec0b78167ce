"use client";

import { useState } from "react";

/**
 * Copies `text` to the clipboard. Browsers allow that only on https or localhost pages; elsewhere
 * the button says to copy the text by hand.
 */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  }
  return (
    <span className="inline-flex items-center gap-2">
      <button type="button" className="btn btn-secondary w-full sm:w-auto" onClick={copy} aria-label={label}>
        {state === "copied" ? "Copied" : "Copy"}
      </button>
      {state === "failed" ? <span role="alert" className="text-xs text-rose-700">Select the link and copy it</span> : null}
    </span>
  );
}
