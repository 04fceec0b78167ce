"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "../api-client";

/** "Get my lab machine": no approval, inside the course's allocation; a second click returns the same machine. */
export function GetMachineButton({ courseId }: { courseId: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function get() {
    setBusy(true);
    setError(null);
    const res = await api(`/api/v1/courses/${courseId}/machine`, { method: "POST" });
    if (!res.ok) setError(res.error);
    router.refresh();
    setBusy(false);
  }
  return (
    <div className="space-y-2">
      <button type="button" className="btn btn-primary w-full sm:w-auto" disabled={busy} onClick={get}>{busy ? "Requesting…" : "Get my lab machine"}</button>
      {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
    </div>
  );
}
