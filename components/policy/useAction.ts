"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "../api-client";

/**
 * One admin action at a time: sends the request, keeps the server's message and per-field
 * messages, and refreshes the page's data when it worked.
 */
export function useAction() {
  const router = useRouter();
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string; key: string } | null>(null);
  const [fields, setFields] = useState<Record<string, string[]>>({});

  async function run(key: string, path: string, method: string, body: unknown, success: string): Promise<boolean> {
    setBusy(key);
    setMessage(null);
    setFields({});
    const res = await api(path, { method, body });
    setBusy(null);
    if (!res.ok) {
      setFields(res.fields ?? {});
      setMessage({ ok: false, text: res.error, key });
      return false;
    }
    setMessage({ ok: true, text: success, key });
    router.refresh();
    return true;
  }

  return { run, busy, message, fields };
}
