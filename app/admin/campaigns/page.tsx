import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { asc, inArray, isNull } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { groups, images } from "@/lib/db/schema";
import { requireUser } from "@/lib/auth/require-user";
import { UserError } from "@/lib/errors";
import { listCampaigns } from "@/lib/campaigns/queries";
import { requireCampaignManager } from "@/lib/campaigns/access";
import { versionsOfImages, currentVersions } from "@/lib/catalog/versions";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { TableHead } from "@/components/TableHead";
import { formatDateTime } from "@/components/format";
import { CampaignForm } from "@/components/campaigns/CampaignForm";

export const metadata: Metadata = { title: "Patch campaigns" };
export const dynamic = "force-dynamic";

/** Admins and approvers (for their groups): the patch campaigns, and a form to start one. */
export default async function CampaignsPage() {
  const user = await requireUser("/admin/campaigns");
  const db = await getDb();
  const scope = await requireCampaignManager(db, user).catch((err) => {
    if (err instanceof UserError && err.status === 403) forbidden();
    throw err;
  });
  const [list, imageRows, groupRows] = await Promise.all([
    listCampaigns(db, user),
    db.select({ id: images.id, slug: images.slug, name: images.name }).from(images).where(isNull(images.retiredAt)).orderBy(asc(images.name)),
    db.select({ id: groups.id, slug: groups.slug, name: groups.name }).from(groups).where(scope === "all" ? undefined : inArray(groups.id, scope)).orderBy(asc(groups.name)),
  ]);
  const ids = imageRows.map((i) => i.id);
  const [versions, current] = await Promise.all([versionsOfImages(db, ids), currentVersions(db, ids)]);
  const choices = imageRows.map((i) => ({
    slug: i.slug,
    name: i.name,
    versions: (versions.get(i.id) ?? []).map((v) => ({ number: v.number, changelog: v.changelog, current: current.get(i.id)?.number === v.number })),
  }));

  return (
    <>
      <PageHeader
        title="Patch campaigns"
        description="Reinstall the environments of an image to a new version in waves, within a maintenance window: each is backed up first and checked after; its name, addresses, MACs and /data stay. Too many failures in a wave stop the campaign, and the failed ones can be rolled back from their backups."
      />
      <div className="space-y-6">
        <section aria-labelledby="campaigns-heading">
          <h2 id="campaigns-heading" className="mb-3">Campaigns ({list.length})</h2>
          {list.length ? (
            <div className="card overflow-x-auto">
              <table className="table table-stack" aria-label="Campaigns">
                <TableHead columns={["Campaign", "Status", "Window", "Progress"]} />
                <tbody>
                  {list.map((c) => (
                    <tr key={c.id} data-testid="campaign-row">
                      <td className="min-w-0">
                        <Link prefetch={false} href={`/admin/campaigns/${c.id}`} className="font-medium text-sky-700 hover:underline wrap-anywhere">{c.name}</Link>
                        <span className="block text-xs text-slate-500">{c.image.name} to v{c.version}{c.group ? ` · ${c.group}` : ""}</span>
                      </td>
                      <td data-label="Status"><StatusBadge status={c.status} /></td>
                      <td data-label="Window" className="text-sm text-slate-600">{formatDateTime(c.window.start)}<span className="block">to {formatDateTime(c.window.end)}</span></td>
                      <td data-label="Progress" className="text-sm text-slate-600">
                        {c.environments} environment{c.environments === 1 ? "" : "s"}: {Object.entries(c.counts).map(([s, n]) => `${n} ${s.replace("_", " ")}`).join(", ")}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="card p-5 text-sm text-slate-600">No campaign yet.</p>
          )}
        </section>
        <section aria-labelledby="new-campaign-heading" className="card p-5">
          <h2 id="new-campaign-heading" className="mb-3 text-base">Start a campaign</h2>
          <CampaignForm images={choices} groups={groupRows.map((g) => ({ slug: g.slug, name: g.name }))} canChooseAllGroups={scope === "all"} now={new Date().toISOString()} />
        </section>
      </div>
    </>
  );
}
