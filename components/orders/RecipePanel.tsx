"use client";

import { useState } from "react";
import type { OrderView } from "@/lib/orders/queries";
import { api } from "../api-client";
import { CopyButton } from "../CopyButton";
import { formatDateTime } from "../format";

type RecipeView = NonNullable<OrderView["recipe"]>;

/**
 * What the order's recipe hands over: its outputs (an address, a password shown to the owner
 * once), the accounts and settings the order added. The recipe's own steps are in the
 * pipeline, under wait-until-ready.
 */
export function RecipePanel({
  orderId,
  recipe,
  accounts,
  settings,
  isOwner,
  onDone,
}: {
  orderId: string;
  recipe: RecipeView | null;
  accounts: OrderView["accounts"];
  settings: OrderView["settings"];
  isOwner: boolean;
  onDone: () => void;
}) {
  const [shown, setShown] = useState<{ name: string; label: string; value: string }[] | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sysctl = Object.entries(settings.sysctl);
  const env = Object.entries(settings.env);
  if (!recipe && accounts.length === 0 && sysctl.length === 0 && env.length === 0) return null;

  async function reveal() {
    setBusy(true);
    const res = await api<{ secrets: { name: string; label: string; value: string }[]; note: string }>(`/api/v1/orders/${orderId}/secrets`, { method: "POST" });
    setBusy(false);
    if (res.ok) {
      setShown(res.data.secrets);
      setNote(res.data.note);
      onDone();
    } else setNote(res.error);
  }

  return (
    <section className="card" aria-labelledby="recipe-heading" data-testid="recipe-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="recipe-heading" className="text-base">{recipe ? recipe.name : "Accounts and settings"}</h2>
        {recipe ? <code className="text-xs text-slate-500">{recipe.slug} {recipe.version}</code> : null}
      </div>
      <dl className="space-y-4 px-5 py-4 text-sm">
        {recipe?.outputs.map((o) => (
          <div key={o.name} data-testid="recipe-output" data-output={o.name}>
            <dt className="text-slate-500">{o.label}</dt>
            <dd className="mt-0.5 font-medium text-slate-900">
              {o.kind === "secret" ? (
                <SecretOutput
                  output={o}
                  shown={shown?.find((s) => s.name === o.name)?.value ?? null}
                  isOwner={isOwner}
                  busy={busy}
                  onReveal={reveal}
                />
              ) : o.value ? (
                o.kind === "url" && /^https?:\/\//.test(o.value) ? (
                  <span className="flex flex-wrap items-center gap-2">
                    <a href={o.value} className="font-mono break-all text-sky-700 underline" rel="noreferrer" target="_blank" data-testid="recipe-url">{o.value}</a>
                    <CopyButton text={o.value} label={`Copy ${o.label}`} />
                  </span>
                ) : (
                  <span className="font-mono break-all">{o.value}</span>
                )
              ) : (
                <span className="font-normal text-slate-500">Once the environment is ready</span>
              )}
              {o.help ? <span className="mt-0.5 block text-xs font-normal text-slate-500">{o.help}</span> : null}
            </dd>
          </div>
        ))}
        {note ? <p role="status" className="text-xs text-slate-600" data-testid="recipe-secret-note">{note}</p> : null}
        {recipe && Object.keys(recipe.params).length ? (
          <div>
            <dt className="text-slate-500">Parameters</dt>
            <dd className="mt-0.5">
              <ul className="space-y-0.5 text-slate-800">
                {Object.entries(recipe.params).map(([k, v]) => (
                  <li key={k} className="break-words"><span className="text-slate-500">{k}:</span> {String(v).length > 120 ? `${String(v).slice(0, 120)}…` : String(v)}</li>
                ))}
              </ul>
            </dd>
          </div>
        ) : null}
        {recipe?.uploads.length ? (
          <div>
            <dt className="text-slate-500">Uploaded</dt>
            <dd className="mt-0.5 text-slate-800">
              {recipe.uploads.map((u) => (
                <span key={u.field} className="block break-all">{u.fileName} ({u.size} bytes, sha256 {u.sha256.slice(0, 12)}…)</span>
              ))}
            </dd>
          </div>
        ) : null}
        {accounts.length ? (
          <div>
            <dt className="text-slate-500">Accounts</dt>
            <dd className="mt-0.5">
              <ul className="space-y-0.5 text-slate-800" data-testid="recipe-accounts">
                {accounts.map((a) => (
                  <li key={a.name}>
                    <code>{a.name}</code> (uid {a.uid}){a.groups.length ? ` in ${a.groups.join(", ")}` : ""} · {a.keys} SSH key{a.keys === 1 ? "" : "s"}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
        ) : null}
        {sysctl.length || env.length ? (
          <div>
            <dt className="text-slate-500">Settings</dt>
            <dd className="mt-0.5">
              <ul className="space-y-0.5 font-mono text-xs break-all text-slate-800">
                {sysctl.map(([k, v]) => <li key={k}>sysctl {k} = {v}</li>)}
                {env.map(([k, v]) => <li key={k}>{k}={v}</li>)}
              </ul>
            </dd>
          </div>
        ) : null}
      </dl>
    </section>
  );
}

function SecretOutput({
  output,
  shown,
  isOwner,
  busy,
  onReveal,
}: {
  output: RecipeView["outputs"][number];
  shown: string | null;
  isOwner: boolean;
  busy: boolean;
  onReveal: () => void;
}) {
  if (shown) {
    return (
      <span className="flex flex-wrap items-center gap-2" data-testid="recipe-secret-value">
        <code className="rounded bg-amber-50 px-2 py-1 break-all">{shown}</code>
        <CopyButton text={shown} label={`Copy ${output.label}`} />
        <span className="block w-full text-xs font-normal text-amber-800">Shown this once: the portal keeps only its hash.</span>
      </span>
    );
  }
  if (output.secret?.available) {
    return isOwner ? (
      <button type="button" className="btn btn-secondary" disabled={busy} onClick={onReveal} data-testid="recipe-reveal">
        {busy ? "Showing…" : "Show once"}
      </button>
    ) : (
      <span className="font-normal text-slate-500">Only the owner can see it, once</span>
    );
  }
  if (output.secret?.revealedAt) return <span className="font-normal text-slate-600">Shown to the owner on {formatDateTime(output.secret.revealedAt)}; the portal keeps only its hash</span>;
  return <span className="font-normal text-slate-500">Made when the environment is built</span>;
}
