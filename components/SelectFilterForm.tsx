"use client";

import Form from "next/form";
import type { ReactNode } from "react";

/**
 * A GET form of select filters. Each choice applies at once (a client-side navigation to
 * `action` with the form's fields as the query); without JavaScript it is a plain form that
 * its submit button sends. Only for selects: a text field would submit on every keystroke.
 */
export function SelectFilterForm({ action, label, className, children }: { action: string; label: string; className?: string; children: ReactNode }) {
  return (
    <Form action={action} prefetch={false} scroll={false} aria-label={label} className={className} onChange={(e) => e.currentTarget.requestSubmit()}>
      {children}
    </Form>
  );
}
