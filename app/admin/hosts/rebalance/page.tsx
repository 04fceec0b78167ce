import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { requireUser } from "@/lib/auth/require-user";
import { getDb } from "@/lib/db/client";
import { hostKinds } from "@/lib/drivers/types";
import { evacuationView, latestRebalanceId } from "@/lib/fleet/queries";
import { listHostsWithUsage } from "@/lib/hosts/queries";
import { PageHeader } from "@/components/PageHeader";
import { RebalancePanel } from "@/components/fleet/RebalancePanel";

export const metadata: Metadata = { title: "Rebalance hosts" };
export const dynamic = "force-dynamic";

/** Rebalance memory use across the active hosts of a kind (admins): the plan, then its run. */
export default async function RebalancePage() {
  const user = await requireUser("/admin/hosts/rebalance");
  if (user.role !== "admin") forbidden();
  const db = await getDb();
  const all = await listHostsWithUsage(db);
  const kinds = hostKinds.map((kind) => ({ kind, active: all.filter((h) => h.kind === kind && h.state === "active").length })).filter((k) => all.some((h) => h.kind === k.kind));
  const lastId = await latestRebalanceId(db);
  const latest = lastId ? await evacuationView(db, lastId) : null;
  return (
    <>
      <PageHeader
        title="Rebalance hosts"
        description="Moves that even out memory use across the active hosts of a kind: see the plan with each host's memory before and after, then run exactly these moves (live where the kind migrates live). If the hosts or their environments change meanwhile, the plan is refused and shown anew."
      />
      <p className="mb-4 text-sm">
        <Link href="/admin/hosts" className="text-sky-700 hover:underline">← All hosts</Link>
      </p>
      <RebalancePanel kinds={kinds} latest={latest} />
    </>
  );
}
