"use client";

import { useState, type FormEvent } from "react";
import { sshKeyProblem } from "@/lib/validation/ssh-key";
import { api } from "../api-client";

type KeyView = { sshPublicKey: string | null; fingerprint: string | null };

/** The SSH public key the glue step installs in the user's new environments. */
export function SshKeyForm({ initial }: { initial: KeyView }) {
  const [current, setCurrent] = useState<KeyView>(initial);
  const [text, setText] = useState("");
  const [touched, setTouched] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const trimmed = text.trim();
  const problem = trimmed ? sshKeyProblem(trimmed) : "Paste your public key";
  const shown = (touched && trimmed ? problem : null) ?? serverError;

  async function save(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    setStatus(null);
    if (problem) {
      setServerError(trimmed ? null : problem);
      return;
    }
    setBusy(true);
    const res = await api<KeyView>("/api/v1/me/ssh-key", { method: "PUT", body: { sshPublicKey: trimmed } });
    setBusy(false);
    if (!res.ok) {
      setServerError(res.fields?.sshPublicKey?.[0] ?? res.error);
      return;
    }
    setCurrent(res.data);
    setText("");
    setTouched(false);
    setServerError(null);
    setStatus(`Saved. New environments you order get this key (${res.data.fingerprint}).`);
  }

  async function remove() {
    setBusy(true);
    setStatus(null);
    const res = await api("/api/v1/me/ssh-key", { method: "DELETE" });
    setBusy(false);
    if (!res.ok) {
      setServerError(res.error);
      return;
    }
    setCurrent({ sshPublicKey: null, fingerprint: null });
    setStatus("Removed. New environments get no key from you.");
  }

  return (
    <section className="card" aria-labelledby="ssh-key-heading">
      <div className="border-b border-slate-100 px-5 py-3">
        <h2 id="ssh-key-heading" className="text-base">SSH public key</h2>
        <p className="mt-0.5 text-sm text-slate-600">Installed as an authorized key in every environment you order from now on.</p>
      </div>
      <div className="px-5 py-4">
        {current.fingerprint ? (
          <div className="mb-4 flex flex-wrap items-center justify-between gap-3 rounded-md border border-slate-200 bg-slate-50 px-3 py-2" data-testid="ssh-key-current">
            <div className="min-w-0">
              <p className="text-xs text-slate-500">Current key</p>
              <p className="font-mono text-xs break-all text-slate-900">{current.fingerprint}</p>
              <p className="truncate font-mono text-xs text-slate-500">{current.sshPublicKey}</p>
            </div>
            <button type="button" className="btn btn-secondary py-1 text-rose-700" onClick={remove} disabled={busy}>
              Remove key
            </button>
          </div>
        ) : (
          <p className="mb-4 text-sm text-slate-500">You have no key on file: your environments are delivered without one.</p>
        )}
        <form onSubmit={save} noValidate aria-label="Set your SSH key">
          <label htmlFor="ssh-key" className="field-label">{current.fingerprint ? "Replace with" : "Public key"}</label>
          <textarea
            id="ssh-key"
            rows={3}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setTouched(true);
              setServerError(null);
            }}
            placeholder="ssh-ed25519 AAAA... you@laptop (the contents of ~/.ssh/id_ed25519.pub)"
            spellCheck={false}
            className="field-input font-mono text-xs"
            aria-invalid={Boolean(shown)}
            aria-describedby={shown ? "ssh-key-error" : undefined}
          />
          {shown ? <p id="ssh-key-error" className="field-error">{shown}</p> : null}
          <div className="mt-3 flex flex-col gap-3 sm:flex-row sm:items-center">
            <button type="submit" className="btn btn-primary w-full shrink-0 whitespace-nowrap sm:w-auto" disabled={busy}>
              {busy ? "Saving…" : "Save key"}
            </button>
            {status ? <p role="status" className="text-sm text-emerald-700">{status}</p> : null}
          </div>
        </form>
      </div>
    </section>
  );
}
