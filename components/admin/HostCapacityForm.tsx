"use client";

import { useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { hostUpdateInput } from "@/lib/hosts/input";
import { api } from "../api-client";
import { FieldError, FormStatus } from "./useSchemaForm";

type Key = "vcpus" | "memoryMb" | "diskGb";
const labels: Record<Key, string> = { vcpus: "CPUs", memoryMb: "Memory (MiB)", diskGb: "Disk (GiB)" };

/**
 * Capacity set by hand (kept over what Test connection finds), e.g. to keep room for the
 * host's own services. An emptied field hands that figure back to discovery.
 */
export function HostCapacityForm({
  hostId,
  capacity,
  override,
}: {
  hostId: string;
  capacity: Record<Key, number>;
  override: Partial<Record<Key, number>>;
}) {
  const router = useRouter();
  const initial = { vcpus: String(override.vcpus ?? ""), memoryMb: String(override.memoryMb ?? ""), diskGb: String(override.diskGb ?? "") };
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  // Only what changed: a figure typed in is set, a figure emptied is handed back.
  const change = Object.fromEntries(
    (Object.keys(labels) as Key[])
      .filter((k) => values[k].trim() !== initial[k])
      .map((k) => [k, values[k].trim() === "" ? null : values[k].trim()]),
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    setMessage(null);
    const parsed = hostUpdateInput.safeParse({ capacity: change });
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[1] ?? i.path[0]), i.message])));
      return;
    }
    if (Object.keys(change).length === 0) return setMessage({ ok: true, text: "Nothing changed" });
    setBusy(true);
    const res = await api<{ name: string; capacity: Record<Key, number>; capacityOverride: Partial<Record<Key, number>> }>(`/api/v1/hosts/${hostId}`, { method: "PATCH", body: { capacity: change } });
    setBusy(false);
    if (!res.ok) {
      setErrors(Object.fromEntries(Object.entries(res.fields ?? {}).map(([k, v]) => [k.replace(/^capacity\./, ""), v[0]])));
      setMessage({ ok: false, text: res.error });
      return;
    }
    setErrors({});
    // What is set by hand now (the page's figures follow with the refresh).
    const saved = res.data.capacityOverride;
    setValues({ vcpus: String(saved.vcpus ?? ""), memoryMb: String(saved.memoryMb ?? ""), diskGb: String(saved.diskGb ?? "") });
    const c = res.data.capacity;
    setMessage({ ok: true, text: `${res.data.name}: ${c.vcpus} CPUs, ${c.memoryMb} MiB, ${c.diskGb} GiB` });
    router.refresh();
  }

  return (
    <form onSubmit={submit} noValidate className="mt-3 space-y-2" aria-label="Host capacity">
      <div className="grid grid-cols-3 gap-2">
        {(Object.keys(labels) as Key[]).map((k) => (
          <div key={k}>
            <label htmlFor={`${hostId}-cap-${k}`} className="field-label">{labels[k]}</label>
            <input
              id={`${hostId}-cap-${k}`}
              inputMode="numeric"
              value={values[k]}
              placeholder={String(capacity[k])}
              aria-invalid={Boolean(errors[k])}
              aria-describedby={errors[k] ? `${hostId}-cap-${k}-error` : undefined}
              onChange={(e) => {
                setValues((v) => ({ ...v, [k]: e.target.value }));
                setErrors(({ [k]: _gone, ...rest }) => rest);
              }}
              className="field-input font-mono"
            />
            <FieldError id={`${hostId}-cap-${k}`} text={errors[k]} />
          </div>
        ))}
      </div>
      <p className="field-hint">Set by hand, kept over Test connection; empty = as discovered.</p>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn" disabled={busy}>{busy ? "Saving…" : "Save capacity"}</button>
        <FormStatus message={message} />
      </div>
    </form>
  );
}
