import type { Metadata } from "next";
import { getDb } from "@/lib/db/client";
import { invitationFor } from "@/lib/courses/invitations";
import { AcceptInvitationForm } from "@/components/courses/AcceptInvitationForm";

export const metadata: Metadata = { title: "Set your password" };
export const dynamic = "force-dynamic";

/** The invitation link's page: no sign-in needed; the one-time token is the proof. */
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const found = await invitationFor(await getDb(), token);
  return (
    <div className="mx-auto max-w-md">
      <div className="card p-6">
        <h1 className="mb-2">Set your password</h1>
        {found.ok ? (
          <>
            <p className="mb-4 text-sm text-slate-600">Welcome, {found.name}. Choose a password for <strong>{found.email}</strong>; you are then signed in and can get your lab machine on Courses.</p>
            <AcceptInvitationForm token={token} email={found.email} />
          </>
        ) : (
          <p role="alert" className="text-sm text-rose-700">{found.why}</p>
        )}
      </div>
    </div>
  );
}
