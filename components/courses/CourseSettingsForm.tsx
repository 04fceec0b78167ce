"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { courseUpdateInput } from "@/lib/courses/input";
import { api } from "../api-client";

/** The teacher raises or lowers the course's block of machines or moves its end date. */
export function CourseSettingsForm({ courseId, capacity, fixedCapacity, endsOn }: { courseId: string; capacity: number; fixedCapacity: boolean; endsOn: string }) {
  const router = useRouter();
  const [cap, setCap] = useState(fixedCapacity ? String(capacity) : "");
  const [end, setEnd] = useState(endsOn);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function save(e: FormEvent) {
    e.preventDefault();
    setMessage(null);
    const body = { capacity: cap.trim() === "" ? null : Number(cap), endsOn: end };
    const parsed = courseUpdateInput.safeParse(body);
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])));
      return;
    }
    setBusy(true);
    const res = await api(`/api/v1/courses/${courseId}`, { method: "PATCH", body: parsed.data });
    setBusy(false);
    if (!res.ok) {
      setErrors(Object.fromEntries(Object.entries(res.fields ?? {}).map(([k, v]) => [k, v[0]])));
      setMessage({ ok: false, text: res.fields ? "Not saved: see the marked fields" : res.error });
      return;
    }
    setErrors({});
    setMessage({ ok: true, text: "Saved" });
    router.refresh();
  }

  return (
    <form onSubmit={save} noValidate aria-label="Course settings" className="flex flex-wrap items-end gap-4">
      <div className="w-full sm:w-auto">
        <label htmlFor="course-cap" className="field-label">Lab machines</label>
        <input id="course-cap" inputMode="numeric" value={cap} onChange={(e) => setCap(e.target.value)} placeholder="one per student" aria-invalid={Boolean(errors.capacity)} className="field-input sm:w-40" />
        {errors.capacity ? <p className="field-error">{errors.capacity}</p> : null}
      </div>
      <div className="w-full sm:w-auto">
        <label htmlFor="course-ends" className="field-label">Last day</label>
        <input id="course-ends" type="date" value={end} onChange={(e) => setEnd(e.target.value)} aria-invalid={Boolean(errors.endsOn)} className="field-input" />
        {errors.endsOn ? <p className="field-error">{errors.endsOn}</p> : null}
      </div>
      <button type="submit" className="btn btn-secondary w-full sm:w-auto" disabled={busy}>{busy ? "Saving…" : "Save"}</button>
      {message ? <p role={message.ok ? "status" : "alert"} className={`text-sm ${message.ok ? "text-emerald-700" : "text-rose-700"}`}>{message.text}</p> : null}
    </form>
  );
}
