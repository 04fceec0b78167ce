"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { DATE_TIME_EXAMPLE } from "@/lib/validation/date-time";
import { DEFAULT_POSTPONE_DAYS } from "@/lib/campaigns/input";
import { api } from "../api-client";

export type CampaignImageChoice = { slug: string; name: string; versions: { number: number; changelog: string; current: boolean }[] };

const pad = (n: number) => String(n).padStart(2, "0");
/** `2026-12-06 11:59` (UTC) of a moment, the form the portal's date fields take. */
const asField = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;

/**
 * Starts a patch campaign: the image and version, which environments (a group's, or every
 * outdated one), the maintenance window, the wave size, the failure threshold and how long
 * owners may postpone. The server checks everything again; its messages show under the fields.
 */
export function CampaignForm({ images, groups, canChooseAllGroups, now }: { images: CampaignImageChoice[]; groups: { slug: string; name: string }[]; canChooseAllGroups: boolean; now: string }) {
  const router = useRouter();
  const start = new Date(now);
  const [image, setImage] = useState(images[0]?.slug ?? "");
  const versions = images.find((i) => i.slug === image)?.versions ?? [];
  const [version, setVersion] = useState(String(versions.find((v) => v.current)?.number ?? ""));
  const [mode, setMode] = useState<"group" | "outdated">("group");
  const [group, setGroup] = useState(canChooseAllGroups ? "" : (groups[0]?.slug ?? ""));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string[]>>({});

  const fieldError = (...names: string[]) => {
    const found = names.flatMap((n) => Object.entries(fields).filter(([k]) => k === n || k.startsWith(`${n}.`)).flatMap(([, m]) => m));
    return found.length ? <p className="field-error">{found.join("; ")}</p> : null;
  };

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const text = (k: string) => String(f.get(k) ?? "").trim();
    const kind = text("thresholdKind") === "percent" ? "percent" : "count";
    const body = {
      ...(text("name") ? { name: text("name") } : {}),
      image,
      ...(version ? { version: Number(version) } : {}),
      targets: mode === "outdated" ? { outdated: true, ...(group ? { group } : {}) } : { group },
      window: { start: text("start"), end: text("end") },
      waveSize: text("waveSize"),
      failureThreshold: { [kind]: text("thresholdValue") },
      postponeMaxDays: text("postponeMaxDays"),
    };
    setBusy(true);
    setError(null);
    setFields({});
    const res = await api<{ id: string }>("/api/v1/campaigns", { method: "POST", body });
    setBusy(false);
    if (res.ok) {
      router.push(`/admin/campaigns/${res.data.id}`);
      return;
    }
    setError(res.error);
    setFields(res.fields ?? {});
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4" aria-label="Start a patch campaign">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <div>
          <label htmlFor="campaign-name" className="field-label">Name (optional)</label>
          <input id="campaign-name" name="name" className="field-input" placeholder="Patch night" autoComplete="off" />
          {fieldError("name")}
        </div>
        <div>
          <label htmlFor="campaign-image" className="field-label">Image</label>
          <select
            id="campaign-image"
            className="field-input"
            value={image}
            onChange={(e) => {
              setImage(e.target.value);
              setVersion(String(images.find((i) => i.slug === e.target.value)?.versions.find((v) => v.current)?.number ?? ""));
            }}
          >
            {images.map((i) => (
              <option key={i.slug} value={i.slug}>{i.name}</option>
            ))}
          </select>
          {fieldError("image")}
        </div>
        <div>
          <label htmlFor="campaign-version" className="field-label">Update to version</label>
          <select id="campaign-version" className="field-input" value={version} onChange={(e) => setVersion(e.target.value)}>
            {versions.map((v) => (
              <option key={v.number} value={v.number}>v{v.number}{v.current ? " (current)" : ""}: {v.changelog.length > 50 ? `${v.changelog.slice(0, 49)}…` : v.changelog}</option>
            ))}
          </select>
          {fieldError("version")}
        </div>
        <fieldset>
          <legend className="field-label">Environments</legend>
          <div className="flex flex-col gap-1 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" name="mode" checked={mode === "group"} onChange={() => setMode("group")} /> Every environment of a group
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name="mode" checked={mode === "outdated"} onChange={() => setMode("outdated")} /> Every outdated environment
            </label>
          </div>
          {fieldError("targets")}
        </fieldset>
        <div>
          <label htmlFor="campaign-group" className="field-label">Group</label>
          <select id="campaign-group" className="field-input" value={group} onChange={(e) => setGroup(e.target.value)}>
            {canChooseAllGroups ? <option value="">{mode === "outdated" ? "All groups" : "Choose a group"}</option> : null}
            {groups.map((g) => (
              <option key={g.slug} value={g.slug}>{g.name}</option>
            ))}
          </select>
          {fieldError("targets.group")}
        </div>
        <div>
          <label htmlFor="campaign-start" className="field-label">Window starts (UTC)</label>
          <input id="campaign-start" name="start" className="field-input font-mono" defaultValue={asField(start)} placeholder={DATE_TIME_EXAMPLE} autoComplete="off" spellCheck={false} />
          {fieldError("window.start")}
        </div>
        <div>
          <label htmlFor="campaign-end" className="field-label">Window ends (UTC)</label>
          <input id="campaign-end" name="end" className="field-input font-mono" defaultValue={asField(new Date(start.getTime() + 4 * 3600_000))} placeholder={DATE_TIME_EXAMPLE} autoComplete="off" spellCheck={false} />
          {fieldError("window.end", "window")}
        </div>
        <div>
          <label htmlFor="campaign-wave" className="field-label">Wave size</label>
          <input id="campaign-wave" name="waveSize" className="field-input" inputMode="numeric" defaultValue="1" />
          <p className="field-hint">Environments updated at once</p>
          {fieldError("waveSize")}
        </div>
        <div>
          <label htmlFor="campaign-threshold" className="field-label">Stop when more fail in a wave than</label>
          <div className="flex gap-2">
            <input id="campaign-threshold" name="thresholdValue" className="field-input w-24" inputMode="numeric" defaultValue="0" />
            <select name="thresholdKind" aria-label="Threshold as" className="field-input" defaultValue="count">
              <option value="count">environments</option>
              <option value="percent">percent of the wave</option>
            </select>
          </div>
          {fieldError("failureThreshold")}
        </div>
        <div>
          <label htmlFor="campaign-postpone" className="field-label">Owners may postpone by (days, once)</label>
          <input id="campaign-postpone" name="postponeMaxDays" className="field-input" inputMode="numeric" defaultValue={String(DEFAULT_POSTPONE_DAYS)} />
          {fieldError("postponeMaxDays")}
        </div>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={busy}>{busy ? "Starting…" : "Start campaign"}</button>
        {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
      </div>
    </form>
  );
}
