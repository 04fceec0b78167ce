import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { pageUser } from "@/lib/auth/require-user";
import { sessionWithoutAccess } from "@/lib/auth/session";
import { configuredMethods, localAdminsOnly } from "@/lib/auth/sign-in-settings";
import { signInErrorMessage } from "@/lib/auth/sign-in-errors";
import { getDb } from "@/lib/db/client";
import { LoginForm } from "@/components/LoginForm";
import { SignOutButton } from "@/components/SignOutButton";

export const metadata: Metadata = { title: "Sign in" };

/** Only same-site paths are followed after sign-in; without one, the start page of the user's role (app/page.tsx). */
function safeNext(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/";
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNext(params.next);
  if (await pageUser()) redirect(next);
  const [withoutAccess, adminsOnly] = await Promise.all([sessionWithoutAccess(), getDb().then(localAdminsOnly)]);
  const methods = configuredMethods();
  const external = methods.oidc || methods.ldap;
  return (
    <div className="mx-auto mt-8 max-w-sm">
      {withoutAccess ? (
        <div className="card p-6 sm:p-8" role="alert" data-testid="no-access">
          <h1 className="text-xl">No access yet</h1>
          <p className="mt-3 text-sm text-slate-700">
            You are signed in as <span className="font-medium break-words">{withoutAccess.email}</span>, but none of your groups gives access to this
            portal. Ask an administrator of the portal to map one of them to a role; it counts the next time you sign in.
          </p>
          <p className="mt-3 text-sm text-slate-600">Your groups:</p>
          {withoutAccess.groups.length ? (
            <ul className="mt-1 space-y-1 font-mono text-xs break-all text-slate-700" data-testid="no-access-groups">
              {withoutAccess.groups.map((g) => <li key={g}>{g}</li>)}
            </ul>
          ) : (
            <p className="mt-1 text-sm text-slate-700" data-testid="no-access-groups">none</p>
          )}
          <div className="mt-6">
            <SignOutButton className="btn btn-secondary w-full py-2" />
          </div>
        </div>
      ) : (
        <div className="card p-6 sm:p-8">
          <h1 className="text-xl">Sign in</h1>
          <p className="mt-1 mb-6 text-sm text-slate-600">Order and follow your environments.</p>
          <LoginForm
            next={next}
            methods={{ oidc: methods.oidc && { name: methods.oidc.name }, ldap: methods.ldap && { name: methods.ldap.name }, localAdminsOnly: adminsOnly }}
            error={signInErrorMessage(one(params.error))}
          />
        </div>
      )}
      <p className="mt-4 text-center text-xs text-slate-500">
        {external ? "Use your organisation's account. Local accounts are created by the portal's administrators." : "Accounts are created by the portal's administrators."}
      </p>
    </div>
  );
}
