import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { pageUser } from "@/lib/auth/require-user";
import { LoginForm } from "@/components/LoginForm";

export const metadata: Metadata = { title: "Sign in" };

/** Only same-site paths are followed after sign-in; without one, the start page of the user's role (app/page.tsx). */
function safeNext(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/";
}

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNext(params.next);
  if (await pageUser()) redirect(next);
  return (
    <div className="mx-auto mt-8 max-w-sm">
      <div className="card p-6 sm:p-8">
        <h1 className="text-xl">Sign in</h1>
        <p className="mt-1 mb-6 text-sm text-slate-600">Order and follow your environments.</p>
        <LoginForm next={next} />
      </div>
      <p className="mt-4 text-center text-xs text-slate-500">Accounts are created by the portal&apos;s administrators.</p>
    </div>
  );
}
