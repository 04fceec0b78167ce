"use client";

import Link from "next/link";
import { signIn } from "next-auth/react";
import { useId, useState, type FormEvent } from "react";
import { acceptInvitationInput } from "@/lib/courses/input";
import { api } from "../api-client";

/**
 * Sets the invited student's password, then signs them in with it and opens their start page
 * (Courses for a student). Should the sign-in fail, the password is set all the same and a
 * link to the sign-in page says so.
 */
export function AcceptInvitationForm({ token, email }: { token: string; email: string }) {
  const id = useId();
  const [password, setPassword] = useState("");
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [signInFailed, setSignInFailed] = useState(false);
  const check = acceptInvitationInput.safeParse({ token, password });
  const fieldError = touched && !check.success ? check.error.issues.find((i) => i.path[0] === "password")?.message : undefined;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (!check.success) return;
    setBusy(true);
    const res = await api("/api/v1/invitations/accept", { method: "POST", body: { token, password } });
    if (!res.ok) {
      setBusy(false);
      setError(res.fields?.password?.[0] ?? res.error);
      return;
    }
    const signedIn = await signIn("credentials", { email, password, redirect: false }).catch(() => null);
    if (signedIn?.ok && !signedIn.error) {
      window.location.assign("/");
      return;
    }
    setBusy(false);
    setSignInFailed(true);
  }
  if (signInFailed) {
    return (
      <p role="status" className="text-sm text-emerald-700">
        Password set. <Link prefetch={false} href={`/login?next=${encodeURIComponent("/courses")}`} className="font-medium underline">Sign in as {email}</Link>.
      </p>
    );
  }
  return (
    <form onSubmit={submit} noValidate className="space-y-3" aria-label="Set your password">
      <div>
        <label htmlFor={id} className="field-label">New password</label>
        <input id={id} type="password" autoComplete="new-password" value={password} onChange={(e) => { setPassword(e.target.value); setTouched(true); }} aria-invalid={Boolean(fieldError)} className="field-input" />
        {fieldError ? <p className="field-error">{fieldError}</p> : <p className="field-hint">At least 8 characters.</p>}
      </div>
      <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={busy}>{busy ? "Signing you in…" : "Set password and sign in"}</button>
      {error ? <p role="alert" className="text-sm text-rose-700">{error}</p> : null}
    </form>
  );
}
