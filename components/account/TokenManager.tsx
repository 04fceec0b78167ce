"use client";

import { useState, type FormEvent } from "react";
import { api } from "../api-client";
import { formatDateTime } from "../format";
import { TableHead } from "../TableHead";

type Token = { id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null };

/** Personal API tokens: create (the token is shown once), list, revoke. */
export function TokenManager({ initial }: { initial: Token[] }) {
  const [tokens, setTokens] = useState<Token[]>(initial);
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function reload() {
    const res = await api<{ tokens: Token[] }>("/api/v1/tokens");
    if (res.ok) setTokens(res.data.tokens);
  }

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setNameError("Give the token a name");
      return;
    }
    setBusy("create");
    setError(null);
    const res = await api<{ id: string; name: string; token: string }>("/api/v1/tokens", { method: "POST", body: { name: name.trim() } });
    setBusy(null);
    if (!res.ok) {
      setNameError(res.fields?.name?.[0] ?? null);
      setError(res.fields?.name ? null : res.error);
      return;
    }
    setCreated({ name: res.data.name, token: res.data.token });
    setCopied(false);
    setName("");
    await reload();
  }

  async function revoke(token: Token) {
    setBusy(token.id);
    setError(null);
    const res = await api(`/api/v1/tokens/${token.id}`, { method: "DELETE" });
    setBusy(null);
    if (!res.ok) setError(res.error);
    await reload();
  }

  async function copy() {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  return (
    <section className="card" aria-labelledby="tokens-heading">
      <div className="border-b border-slate-100 px-5 py-3">
        <h2 id="tokens-heading" className="text-base">API tokens</h2>
        <p className="mt-0.5 text-sm text-slate-600">
          Use a token with <code className="rounded bg-slate-100 px-1 text-xs">Authorization: Bearer &lt;token&gt;</code> against{" "}
          <a href="/api/v1/openapi.json" className="font-medium text-sky-700 hover:underline">the API</a>. It acts as you.
        </p>
      </div>

      <form onSubmit={create} noValidate className="flex flex-wrap items-end gap-3 px-5 py-4" aria-label="Create a token">
        <div className="w-full sm:w-auto sm:min-w-60 sm:flex-1">
          <label htmlFor="token-name" className="field-label">Token name</label>
          <input
            id="token-name"
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setNameError(e.target.value.trim() ? null : "Give the token a name");
            }}
            placeholder="e.g. CI pipeline"
            maxLength={100}
            className="field-input"
            aria-invalid={Boolean(nameError)}
            aria-describedby={nameError ? "token-name-error" : undefined}
          />
          {nameError ? <p id="token-name-error" className="field-error">{nameError}</p> : null}
        </div>
        <button type="submit" className="btn btn-primary w-full py-2 sm:w-auto" disabled={busy !== null}>
          {busy === "create" ? "Creating…" : "Create token"}
        </button>
      </form>

      {created ? (
        <div className="mx-5 mb-4 rounded-md border border-emerald-300 bg-emerald-50 p-4" role="status" data-testid="new-token">
          <p className="text-sm font-semibold text-emerald-900">Token “{created.name}” created. Copy it now: it is shown only once.</p>
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <code className="w-full flex-1 rounded border border-emerald-200 bg-white px-3 py-2 font-mono text-xs break-all text-slate-900" data-testid="new-token-value">
              {created.token}
            </code>
            <button type="button" className="btn btn-secondary" onClick={copy}>{copied ? "Copied" : "Copy"}</button>
            <button type="button" className="btn btn-secondary" onClick={() => setCreated(null)}>Done</button>
          </div>
        </div>
      ) : null}

      {error ? <p role="alert" className="mx-5 mb-4 text-sm text-rose-700">{error}</p> : null}

      <div className="overflow-x-auto border-t border-slate-100">
        {tokens.length === 0 ? (
          <p className="px-5 py-6 text-center text-sm text-slate-500">You have no API tokens.</p>
        ) : (
          <table className="table table-stack" aria-label="Your API tokens">
            <TableHead columns={["Name", "Token", "Created", "Last used", <span className="sr-only">Actions</span>]} />
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id} data-testid="token-row">
                  <td className="font-medium text-slate-900">{t.name}</td>
                  <td data-label="Token" className="font-mono text-xs">{t.prefix}…</td>
                  <td data-label="Created" className="whitespace-nowrap">{formatDateTime(t.createdAt)}</td>
                  <td data-label="Last used" className="whitespace-nowrap">{t.lastUsedAt ? formatDateTime(t.lastUsedAt) : <span className="text-slate-400">never</span>}</td>
                  <td className="text-right">
                    <button
                      type="button"
                      className="btn btn-secondary mt-1 w-full py-1 text-rose-700 sm:mt-0 sm:w-auto"
                      disabled={busy !== null}
                      onClick={() => revoke(t)}
                      aria-label={`Revoke ${t.name}`}
                    >
                      {busy === t.id ? "Revoking…" : "Revoke"}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
