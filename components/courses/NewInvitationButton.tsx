"use client";

import { useState } from "react";
import type { IssuedInvitation, MailCount } from "@/lib/courses/invitations";
import { api } from "../api-client";
import { InvitationLinks, mailSentence } from "./InvitationLinks";

type Target = { studentIds: string[] } | { all: true };

/**
 * The teacher's new invitation links for students who have not set a password: the named ones
 * or all of them. Each new link replaces the student's earlier ones; it is e-mailed and shown
 * here once, with a copy button.
 */
export function NewInvitationButton({ courseId, target, label, description }: { courseId: string; target: Target; label: string; description?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ invitations: IssuedInvitation[]; mail: MailCount } | null>(null);

  async function send() {
    setBusy(true);
    setError(null);
    const res = await api<{ invitations: IssuedInvitation[]; mail: MailCount }>(`/api/v1/courses/${courseId}/invitations`, { method: "POST", body: target });
    setBusy(false);
    if (res.ok) setResult(res.data);
    else setError(res.fields?.studentIds?.[0] ?? res.error);
  }

  const n = result?.invitations.length ?? 0;
  return (
    <div className="space-y-2">
      <button type="button" className="btn btn-secondary w-full sm:w-auto" disabled={busy} onClick={send} aria-label={description}>
        {busy ? "Sending…" : label}
      </button>
      {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
      {result ? (
        <div role="status" className="rounded-md border-l-4 border-emerald-500 bg-emerald-50 px-3 py-2 text-sm text-emerald-900" data-testid="new-invitations">
          <p className="font-semibold">
            {n === 0 ? "Every student on the roster has set a password: no new link needed." : `New link${n === 1 ? "" : "s"} made; earlier links no longer work.`}
          </p>
          {n ? (
            <>
              <p>{mailSentence(result.mail)}</p>
              <InvitationLinks invitations={result.invitations} />
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
