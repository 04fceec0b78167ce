import type { Metadata } from "next";
import { forbidden, notFound } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { requireUser } from "@/lib/auth/require-user";
import { UserError } from "@/lib/errors";
import { getCampaign } from "@/lib/campaigns/queries";
import { CampaignLive } from "@/components/campaigns/CampaignLive";

export const metadata: Metadata = { title: "Patch campaign" };
export const dynamic = "force-dynamic";

/** One campaign, followed live: its waves and each environment's outcome and timings. */
export default async function CampaignPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser(`/admin/campaigns/${id}`);
  const view = await getCampaign(await getDb(), user, id).catch((err) => {
    if (err instanceof UserError && err.status === 404) notFound();
    if (err instanceof UserError && err.status === 403) forbidden();
    throw err;
  });
  return <CampaignLive key={view.id} initial={view} />;
}
