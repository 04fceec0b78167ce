import type { Metadata } from "next";
import { getDb } from "@/lib/db/client";
import { listApiTokens } from "@/lib/auth/tokens";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { TokenManager } from "@/components/account/TokenManager";
import { SshKeyForm } from "@/components/account/SshKeyForm";
import { getSshKey } from "@/lib/users/ssh-keys";
import { EmailPreferencesForm } from "@/components/account/EmailPreferencesForm";
import { emailChoices } from "@/lib/notifications/preferences";
import { mailConfigured } from "@/lib/mail/transport";
import { notificationEvents } from "@/lib/db/schema";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  const user = await requireUser("/account");
  const db = await getDb();
  const [tokens, sshKey, email] = await Promise.all([listApiTokens(db, user.id), getSshKey(db, user.id), emailChoices(db, user.id)]);
  // Only those who decide on orders are asked about orders waiting for them.
  const decides = user.role === "admin" || user.role === "approver";
  const events = notificationEvents.filter((e) => decides || e !== "order.awaiting_approval");
  return (
    <>
      <PageHeader title="Account" description="Who you are in the portal, the SSH key your environments get, what comes by e-mail, and your personal API tokens." />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <section className="card h-fit p-5" aria-labelledby="profile-heading">
          <h2 id="profile-heading" className="text-base">Profile</h2>
          <dl className="mt-3 space-y-3 text-sm">
            <div>
              <dt className="text-slate-500">Name</dt>
              <dd className="font-medium text-slate-900">{user.name}</dd>
            </div>
            <div>
              <dt className="text-slate-500">E-mail</dt>
              <dd className="font-medium text-slate-900">{user.email}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Role</dt>
              <dd className="font-medium text-slate-900 capitalize">{user.role}</dd>
            </div>
          </dl>
        </section>
        <div className="space-y-6 lg:col-span-2">
          <SshKeyForm initial={sshKey} />
          <EmailPreferencesForm initial={email} events={events} mailServer={mailConfigured()} />
          <TokenManager
            initial={tokens.map((t) => ({
              id: t.id,
              name: t.name,
              prefix: t.prefix,
              createdAt: t.createdAt.toISOString(),
              lastUsedAt: t.lastUsedAt ? t.lastUsedAt.toISOString() : null,
            }))}
          />
        </div>
      </div>
    </>
  );
}
