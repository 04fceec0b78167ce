"use client";

import { signOut } from "next-auth/react";
import { useState } from "react";

const navStyle = "rounded-md border border-slate-600 px-3 py-1.5 text-sm font-medium text-slate-200 hover:bg-slate-800 disabled:opacity-50";

/**
 * Ends the portal's session, then, for single sign-on, the identity provider's too (its
 * end-session page comes back to the sign-in page); else goes to the sign-in page.
 */
export function SignOutButton({ className = navStyle }: { className?: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        // Asked first: it reads the session that signOut ends.
        const idp = await fetch("/api/auth/end-session", { cache: "no-store" })
          .then((r) => (r.ok ? (r.json() as Promise<{ url: string | null }>) : { url: null }))
          .catch(() => ({ url: null }));
        await signOut({ redirect: false });
        window.location.assign(idp.url ?? "/login");
      }}
      className={className}
    >
      Sign out
    </button>
  );
}
