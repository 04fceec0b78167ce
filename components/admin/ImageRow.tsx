"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "../api-client";
import { ImageForm, type EditableImage } from "./ImageForm";
import { imageSummary } from "./image-labels";

/** Whether customers see an image: listed in the catalog, or hidden from it. */
function CatalogState({ active }: { active: boolean }) {
  return (
    <span
      data-testid="image-state"
      className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${active ? "bg-emerald-50 text-emerald-800 ring-emerald-300" : "bg-slate-100 text-slate-600 ring-slate-300"}`}
    >
      {active ? "in catalog" : "hidden"}
    </span>
  );
}

/**
 * One catalog image with what an admin does to it: edit it, hide it from the catalog or list
 * it again, retire it for good (asked twice; the server says which orders still use it).
 */
export function ImageRow({
  image,
  versions = [],
}: {
  image: EditableImage & { active: boolean };
  /** Its versions, newest first, and which one is current (new environments and reinstalls use it). */
  versions?: { number: number; changelog: string; builtAt: string; current: boolean }[];
}) {
  const router = useRouter();
  const current = versions.find((v) => v.current);
  const [chosen, setChosen] = useState(String(current?.number ?? ""));
  const [open, setOpen] = useState<"edit" | "retire" | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function call(path: string, method: "PATCH" | "POST", body: unknown, done: string) {
    setBusy(true);
    setMessage(null);
    const res = await api(path, { method, body });
    setBusy(false);
    setMessage(res.ok ? { ok: true, text: done } : { ok: false, text: res.error });
    if (res.ok) {
      setOpen(null);
      router.refresh();
    }
  }

  const toggle = (what: "edit" | "retire") => {
    setMessage(null);
    setOpen(open === what ? null : what);
  };

  return (
    <li className="px-4 py-4 sm:px-5" data-testid="image-row" data-image={image.slug} aria-label={image.name}>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div className="min-w-0">
          <h3 className="flex flex-wrap items-center gap-2 text-base">
            {image.name} <CatalogState active={image.active} />
          </h3>
          <p className="text-xs text-slate-500">
            {image.version} · <code className="break-all">{image.slug}</code>
          </p>
          <p className="mt-1 text-sm text-slate-700">{imageSummary(image)}</p>
          {image.description ? <p className="mt-1 text-sm text-slate-600">{image.description}</p> : null}
        </div>
        <div className="flex flex-wrap gap-2 sm:flex-none sm:flex-nowrap">
          <button type="button" className="btn btn-secondary" aria-expanded={open === "edit"} onClick={() => toggle("edit")} aria-label={`Edit ${image.name}`}>
            {open === "edit" ? "Close editor" : "Edit"}
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={busy}
            onClick={() =>
              call(`/api/v1/images/${image.id}`, "PATCH", { active: !image.active }, image.active
                ? `${image.name} is hidden: customers no longer see or order it; environments built from it keep running.`
                : `${image.name} is in the catalog again.`)
            }
          >
            {image.active ? "Hide from catalog" : "List in catalog"}
          </button>
          <button type="button" className="btn btn-secondary text-rose-700" aria-expanded={open === "retire"} onClick={() => toggle("retire")}>
            Retire…
          </button>
        </div>
      </div>
      {versions.length ? (
        <div className="mt-3 flex flex-col gap-2 text-sm sm:flex-row sm:items-end" data-testid="image-versions">
          <div className="min-w-0">
            <label htmlFor={`version-${image.id}`} className="field-label">Current version</label>
            <select id={`version-${image.id}`} className="field-input max-w-full" value={chosen} onChange={(e) => setChosen(e.target.value)} disabled={busy}>
              {versions.map((v) => (
                <option key={v.number} value={v.number}>
                  v{v.number}{v.current ? " (current)" : ""}: {v.changelog.length > 60 ? `${v.changelog.slice(0, 59)}…` : v.changelog}
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={busy || chosen === String(current?.number ?? "")}
            onClick={() =>
              call(`/api/v1/images/${image.id}/versions/${chosen}/current`, "POST", undefined, `Version ${chosen} of ${image.name} is current: new environments and reinstalls use it; environments on older versions show as outdated.`)
            }
          >
            Make current
          </button>
        </div>
      ) : null}
      {open === "retire" ? (
        <div className="mt-3 rounded-md border border-rose-200 bg-rose-50 p-3 text-sm" role="group" aria-label={`Retire ${image.name}`}>
          <p className="text-rose-900">
            Retire {image.name} for good? It leaves the catalog and what groups may offer, and can no longer be changed or listed again. Orders that used it keep their history.
          </p>
          <div className="mt-2 flex flex-col gap-2 sm:flex-row">
            <button type="button" className="btn btn-danger" disabled={busy} onClick={() => call(`/api/v1/images/${image.id}/retire`, "POST", undefined, `${image.name} is retired.`)}>
              {busy ? "Retiring…" : "Retire image"}
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => toggle("retire")}>Keep it</button>
          </div>
        </div>
      ) : null}
      {message ? (
        <p role={message.ok ? "status" : "alert"} className={`mt-2 text-sm ${message.ok ? "text-emerald-700" : "text-rose-700"}`}>{message.text}</p>
      ) : null}
      {open === "edit" ? (
        <div className="mt-4 border-t border-slate-100 pt-4">
          <ImageForm image={image} />
        </div>
      ) : null}
    </li>
  );
}
