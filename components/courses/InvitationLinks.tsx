"use client";

import type { IssuedInvitation, MailCount } from "@/lib/courses/invitations";
import { CopyButton } from "../CopyButton";

/** A link without PORTAL_URL or NEXTAUTH_URL is a path: shown with this page's address. */
function absolute(link: string) {
  return link.startsWith("/") ? `${window.location.origin}${link}` : link;
}

/** Invitation links as the teacher gets them once (only their hashes are stored), each with a copy button. */
export function InvitationLinks({ invitations }: { invitations: IssuedInvitation[] }) {
  return (
    <ul aria-label="Invitation links" className="divide-y divide-emerald-200">
      {invitations.map((i) => (
        <li key={i.studentId} className="flex flex-col gap-2 py-2 sm:flex-row sm:items-center" data-testid="invitation" data-email={i.email}>
          <div className="min-w-0 flex-1">
            <p>{i.name} <span className="text-slate-600">{i.email}</span></p>
            <p className="font-mono text-xs break-all" data-testid="invitation-link">{absolute(i.link)}</p>
          </div>
          <CopyButton text={absolute(i.link)} label={`Copy the link for ${i.email}`} />
        </li>
      ))}
    </ul>
  );
}

/** What happened to the e-mails that carry the links, and that the links are shown only now. */
export function mailSentence(mail: MailCount): string {
  const once = "Each link works once; copy it now, it is not shown again.";
  if (mail.skipped === 0) return `Being e-mailed (retried while the mail server is down). ${once}`;
  if (mail.queued === 0) return `No mail server is configured: hand out the links yourself. ${once}`;
  return `${mail.queued} being e-mailed, ${mail.skipped} not (no mail server): hand those out yourself. ${once}`;
}
