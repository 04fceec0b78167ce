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
  const total = mail.sent + mail.skipped + mail.failed;
  if (mail.sent === total) return `Sent by e-mail. ${once}`;
  if (mail.skipped === total) return `No mail server is configured: hand out the links yourself. ${once}`;
  const unsent = [mail.failed ? `${mail.failed} could not be sent` : "", mail.skipped ? `${mail.skipped} skipped (no mail server)` : ""].filter(Boolean).join(", ");
  return `${mail.sent} sent by e-mail, ${unsent}: hand those out yourself. ${once}`;
}
