"use client";

import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";

/** next-auth reports a rejected password as this code; any other text is our own message. */
const WRONG_CREDENTIALS = "CredentialsSignin";

/** The sign-in methods the portal is configured with (lib/auth/sign-in-settings.ts), as the page passes them. */
export type LoginMethods = { oidc: { name: string } | null; ldap: { name: string } | null; localAdminsOnly: boolean };

type PasswordMethod = "ldap" | "local";

/**
 * The sign-in page's choices: single sign-on (a button that goes to the identity provider),
 * a directory account, and a local account (for admins only when so configured). Errors from
 * single sign-on arrive with the page (`error`); those of the forms are shown as they come.
 */
export function LoginForm({ next, methods, error: initialError = null }: { next: string; methods: LoginMethods; error?: string | null }) {
  const [method, setMethod] = useState<PasswordMethod>(methods.ldap ? "ldap" : "local");
  const [error, setError] = useState<string | null>(initialError);
  const [busy, setBusy] = useState(false);
  const directory = method === "ldap";

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const login = String(form.get("login") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (!login || !password) {
      setError(directory ? "Enter your user name and password" : "Enter your e-mail and password");
      return;
    }
    setBusy(true);
    setError(null);
    const wrong = directory ? "Wrong user name or password" : "Wrong e-mail or password";
    try {
      const res = directory
        ? await signIn("ldap", { login, password, redirect: false })
        : await signIn("credentials", { email: login, password, redirect: false });
      if (res?.ok && !res.error) {
        window.location.assign(next);
        return;
      }
      if (!res || res.error === WRONG_CREDENTIALS) setError(wrong);
      else if (res.status >= 500 && !res.error) setError("The portal could not sign you in right now; try again in a moment");
      else setError(res.error ?? wrong);
    } catch {
      setError("The portal could not be reached; check your connection and try again");
    }
    setBusy(false);
  }

  async function singleSignOn() {
    setBusy(true);
    setError(null);
    // Goes to the identity provider; it comes back to next-auth's callback, then to `next`.
    await signIn("oidc", { callbackUrl: next });
  }

  const localName = methods.localAdminsOnly ? "Administrator" : "Local account";
  return (
    <div className="space-y-5">
      {methods.oidc ? (
        <button type="button" className="btn btn-primary w-full py-2" disabled={busy} onClick={singleSignOn}>
          Sign in with {methods.oidc.name}
        </button>
      ) : null}
      {methods.oidc ? (
        <p className="flex items-center gap-3 text-xs text-slate-500" aria-hidden>
          <span className="h-px flex-1 bg-slate-200" />
          or
          <span className="h-px flex-1 bg-slate-200" />
        </p>
      ) : null}
      {methods.ldap ? (
        <div role="tablist" aria-label="Account" className="grid grid-cols-2 rounded-md bg-slate-100 p-1 text-sm">
          {(["ldap", "local"] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={method === m}
              onClick={() => {
                setMethod(m);
                setError(null);
              }}
              className={`rounded px-2 py-1.5 font-medium ${method === m ? "bg-white text-slate-900 shadow-sm" : "text-slate-600 hover:text-slate-900"}`}
            >
              {m === "ldap" ? methods.ldap!.name : localName}
            </button>
          ))}
        </div>
      ) : null}
      {!methods.ldap && methods.localAdminsOnly ? <p className="text-sm text-slate-600">Local accounts: administrators only.</p> : null}
      {/* A new form per method: the browser's password manager keeps the two apart. */}
      <form key={method} onSubmit={onSubmit} noValidate className="space-y-4" aria-label={directory ? methods.ldap!.name : localName}>
        <div>
          <label htmlFor={directory ? "login" : "email"} className="field-label">{directory ? "User name or e-mail" : "E-mail"}</label>
          <input
            id={directory ? "login" : "email"}
            name="login"
            type={directory ? "text" : "email"}
            autoComplete="username"
            autoCapitalize="none"
            required
            className="field-input"
            autoFocus={!methods.oidc}
          />
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
        <button type="submit" className={`btn w-full py-2 ${methods.oidc ? "btn-secondary" : "btn-primary"}`} disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
