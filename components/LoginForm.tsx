"use client";

import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";

/** next-auth reports a rejected password as this code; any other text is our own message. */
const WRONG_CREDENTIALS = "CredentialsSignin";

export function LoginForm({ next }: { next: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = String(form.get("email") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (!email || !password) {
      setError("Enter your e-mail and password");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await signIn("credentials", { email, password, redirect: false });
      if (res?.ok && !res.error) {
        window.location.assign(next);
        return;
      }
      if (!res || res.error === WRONG_CREDENTIALS) setError("Wrong e-mail or password");
      else if (res.status >= 500 && !res.error) setError("The portal could not sign you in right now; try again in a moment");
      else setError(res.error ?? "Wrong e-mail or password");
    } catch {
      setError("The portal could not be reached; check your connection and try again");
    }
    setBusy(false);
  }

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <div>
        <label htmlFor="email" className="field-label">E-mail</label>
        <input id="email" name="email" type="email" autoComplete="username" required className="field-input" autoFocus />
      </div>
      <div>
        <label htmlFor="password" className="field-label">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required className="field-input" />
      </div>
      {error ? (
        <p role="alert" data-testid="login-error" className="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-700">
          {error}
        </p>
      ) : null}
      <button type="submit" className="btn btn-primary w-full py-2" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
