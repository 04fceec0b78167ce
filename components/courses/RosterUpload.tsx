"use client";

import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import type { IssuedInvitation, MailCount } from "@/lib/courses/invitations";
import { InvitationLinks, mailSentence } from "./InvitationLinks";
import { NewInvitationButton } from "./NewInvitationButton";

type UploadResult = {
  students: number;
  added: number;
  alreadyOnRoster: string[];
  duplicates: { line: number; message: string }[];
  invitations: IssuedInvitation[];
  notSignedIn: { studentId: string; email: string; name: string }[];
  mail: MailCount;
};

/**
 * Upload a roster as a CSV file (or pasted text). A roster with a bad line is refused whole;
 * each bad line is listed with its number. New students' invitation links are shown once;
 * students of the roster who have an account but never set a password can get a new link.
 */
export function RosterUpload({ courseId }: { courseId: string }) {
  const router = useRouter();
  const fileId = useId();
  const textId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [fileKey, setFileKey] = useState(0);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; lines: [string, string[]][] } | null>(null);
  const [result, setResult] = useState<UploadResult | null>(null);

  async function upload(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setResult(null);
    if (!file && !text.trim()) {
      setError({ message: "Choose a CSV file or paste the roster", lines: [] });
      return;
    }
    setBusy(true);
    let res: Response;
    try {
      if (file) {
        const form = new FormData();
        form.set("file", file);
        res = await fetch(`/api/v1/courses/${courseId}/roster`, { method: "POST", body: form, credentials: "same-origin" });
      } else {
        res = await fetch(`/api/v1/courses/${courseId}/roster`, { method: "POST", body: text, headers: { "Content-Type": "text/csv" }, credentials: "same-origin" });
      }
    } catch {
      setBusy(false);
      setError({ message: "The portal could not be reached; try again", lines: [] });
      return;
    }
    const body = await res.json().catch(() => ({}));
    setBusy(false);
    if (!res.ok) {
      setError({ message: body.error ?? `Upload failed (HTTP ${res.status})`, lines: Object.entries((body.fields ?? {}) as Record<string, string[]>) });
      return;
    }
    setResult(body as UploadResult);
    setFile(null);
    setText("");
    setFileKey((k) => k + 1);
    router.refresh();
  }

  return (
    <form onSubmit={upload} noValidate aria-label="Upload the roster" className="space-y-3">
      <p className="text-sm text-slate-600">
        One student a line: <code className="text-xs">email,name</code> (a header line is optional; commas or semicolons). New students get an account and an invitation link to set their password.
      </p>
      <div className="grid grid-cols-1 gap-3 md:grid-cols-2">
        <div>
          <label htmlFor={fileId} className="field-label">CSV file</label>
          <input key={fileKey} id={fileId} type="file" accept=".csv,text/csv,text/plain" onChange={(e) => setFile(e.target.files?.[0] ?? null)} className="field-input" />
        </div>
        <div>
          <label htmlFor={textId} className="field-label">…or paste it</label>
          <textarea id={textId} value={text} onChange={(e) => setText(e.target.value)} rows={3} placeholder={"email,name\nann@uni.example,Ann Example"} className="field-input font-mono" />
        </div>
      </div>
      <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={busy}>{busy ? "Uploading…" : "Upload roster"}</button>
      {error ? (
        <div role="alert" className="rounded-md border-l-4 border-rose-500 bg-rose-50 px-3 py-2 text-sm text-rose-900" data-testid="roster-error">
          <p className="font-semibold">{error.message}</p>
          {error.lines.length ? (
            <ul className="mt-1 list-disc pl-5">
              {error.lines.map(([line, messages]) => (
                <li key={line}>{line}: {messages.join("; ")}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {result ? (
        <div role="status" className="space-y-2 rounded-md border-l-4 border-emerald-500 bg-emerald-50 px-3 py-2 text-sm text-emerald-900" data-testid="roster-result">
          <p className="font-semibold">
            Added {result.added} of {result.students} student{result.students === 1 ? "" : "s"}
            {result.alreadyOnRoster.length ? `; ${result.alreadyOnRoster.length} already on the roster` : ""}.
          </p>
          {result.duplicates.length ? (
            <ul className="list-disc pl-5">
              {result.duplicates.map((d) => (
                <li key={d.line}>line {d.line}: {d.message}</li>
              ))}
            </ul>
          ) : null}
          {result.invitations.length ? (
            <div>
              <p>
                {result.invitations.length} new account{result.invitations.length === 1 ? "" : "s"}. {mailSentence(result.mail)}
              </p>
              <InvitationLinks invitations={result.invitations} />
            </div>
          ) : null}
          {result.notSignedIn.length ? (
            <div className="space-y-2 border-t border-emerald-200 pt-2" data-testid="roster-not-signed-in">
              <p>
                {result.notSignedIn.length === 1 ? "1 student has" : `${result.notSignedIn.length} students have`} an account but never set a password
                ({result.notSignedIn.map((s) => s.email).join(", ")}): their link may be lost or expired.
              </p>
              <NewInvitationButton
                courseId={courseId}
                target={{ studentIds: result.notSignedIn.map((s) => s.studentId) }}
                label={result.notSignedIn.length === 1 ? "Send a new link" : `Send ${result.notSignedIn.length} new links`}
              />
            </div>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
