/**
 * Shown where the portal makes links that people open elsewhere (invitations, e-mails): without
 * PORTAL_URL they point to NEXTAUTH_URL, under `npm start` http://localhost:<port>, which
 * nobody on another machine can open. Renders nothing when PORTAL_URL is set.
 */
export function PortalUrlWarning({ unset, linksPointTo }: { unset: boolean; linksPointTo?: string | null }) {
  if (!unset) return null;
  return (
    <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="portal-url-warning">
      <strong>PORTAL_URL is not set</strong>, so invitation links and links in e-mails point to{" "}
      {linksPointTo ? <code className="break-all">{linksPointTo}</code> : "no address (e-mails carry only the path)"}: people on other machines cannot
      open them. Set PORTAL_URL to the portal&apos;s public address (e.g. https://portal.example.org) and restart the portal.
    </p>
  );
}
