"use client";

import { useState, type FormEvent } from "react";
import type { NotificationEvent } from "@/lib/db/schema/enums";
import type { EmailChoices } from "@/lib/notifications/preferences";
import { api } from "../api-client";

/** Each kind of event as its checkbox reads after "E-mail me when". */
const labels: Record<NotificationEvent, string> = {
  "order.held": "my order waits for approval",
  "order.awaiting_approval": "an order waits for my approval",
  "order.approved": "my order is approved",
  "order.rejected": "my order is rejected (with the reason)",
  "order.ready": "my environment is ready",
  "order.failed": "my order fails (with the step that failed)",
  "environment.stopped": "my environment is stopped",
  "environment.moving": "my environment is about to be moved with downtime (host maintenance)",
  "environment.moved": "my environment is moved to another host",
  "environment.retired": "my environment is destroyed",
  "lease.expiring": "a lease is about to end (7 days and 1 day before)",
};

/** "E-mail me when…": one checkbox per kind of event; the bell tells about all of them anyway. */
export function EmailPreferencesForm({ initial, events, mailServer }: { initial: EmailChoices; events: NotificationEvent[]; mailServer: boolean }) {
  const [choices, setChoices] = useState<EmailChoices>(initial);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setStatus(null);
    setError(null);
    const res = await api<{ email: EmailChoices }>("/api/v1/me/email-preferences", {
      method: "PATCH",
      body: { email: Object.fromEntries(events.map((event) => [event, choices[event]])) },
    });
    setBusy(false);
    if (!res.ok) {
      setError(res.error);
      return;
    }
    setChoices(res.data.email);
    const count = events.filter((event) => res.data.email[event]).length;
    setStatus(`Saved: ${count} of ${events.length} kinds come by e-mail.`);
  }

  return (
    <section className="card" aria-labelledby="email-preferences-heading">
      <div className="border-b border-slate-100 px-5 py-3">
        <h2 id="email-preferences-heading" className="text-base">E-mail</h2>
        <p className="mt-0.5 text-sm text-slate-600">The bell tells you about all of these; choose which also come to your e-mail address.</p>
      </div>
      <form onSubmit={save} className="px-5 py-4" aria-label="E-mail preferences">
        {!mailServer ? (
          <p className="mb-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="no-mail-server">
            The portal has no mail server configured, so nothing is e-mailed for now. Your choices are kept for when it has one.
          </p>
        ) : null}
        <fieldset>
          <legend className="field-label">E-mail me when…</legend>
          <ul className="mt-1 grid gap-x-6 gap-y-2 sm:grid-cols-2">
            {events.map((event) => (
              <li key={event}>
                <label className="flex items-start gap-2 text-sm text-slate-800">
                  <input
                    type="checkbox"
                    name={event}
                    className="mt-0.5 size-4 shrink-0 accent-sky-600"
                    checked={choices[event]}
                    onChange={(e) => {
                      setChoices({ ...choices, [event]: e.target.checked });
                      setStatus(null);
                    }}
                  />
                  <span>{labels[event]}</span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
        <div className="mt-4 flex flex-wrap items-center gap-3">
          <button type="submit" className="btn btn-primary w-full whitespace-nowrap sm:w-auto" disabled={busy}>
            {busy ? "Saving…" : "Save e-mail choices"}
          </button>
          {status ? <p role="status" className="text-sm text-emerald-700">{status}</p> : null}
          {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
        </div>
      </form>
    </section>
  );
}
