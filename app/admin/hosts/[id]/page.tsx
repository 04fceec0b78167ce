import type { Metadata } from "next";
import Link from "next/link";
import { forbidden, notFound } from "next/navigation";
import { requireUser } from "@/lib/auth/require-user";
import { getDb } from "@/lib/db/client";
import { UserError } from "@/lib/errors";
import { getHostView } from "@/lib/hosts/queries";
import { usageRangeInput, usageSeries } from "@/lib/usage/series";
import { isUuid } from "@/lib/validation/ids";
import { PageHeader } from "@/components/PageHeader";
import { UsageCard } from "@/components/usage/UsageCharts";
import { formatMemory, hostKindLabels } from "@/components/format";
import { StatusBadge } from "@/components/StatusBadge";
import { EvacuatePanel } from "@/components/fleet/EvacuatePanel";
import { evacuationView, latestEvacuationIdOf } from "@/lib/fleet/queries";
import { usageOfHost } from "@/lib/policy/placement";

export const metadata: Metadata = { title: "Host" };
export const dynamic = "force-dynamic";

/**
 * One host (admins): its state, what it holds, its maintenance (evacuate it; the latest
 * evacuation followed live) and its sampled use: CPU, memory, disk and network over an hour,
 * a day or 30 days.
 */
export default async function HostUsagePage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { id } = await params;
  const user = await requireUser(`/admin/hosts/${id}`);
  if (user.role !== "admin") forbidden();
  if (!isUuid(id)) notFound();
  const db = await getDb();
  let host;
  try {
    host = await getHostView(db, id);
  } catch (err) {
    if (err instanceof UserError && err.status === 404) notFound();
    throw err;
  }
  const parsed = usageRangeInput.safeParse({ range: (await searchParams).usage });
  const [series, used, latestId] = await Promise.all([usageSeries(db, host.id, parsed.success ? parsed.data.range : "1h"), usageOfHost(db, host.id), latestEvacuationIdOf(db, host.id)]);
  const latest = latestId ? await evacuationView(db, latestId) : null;
  return (
    <>
      <PageHeader
        title={`Host ${host.name}`}
        description={`${hostKindLabels[host.kind] ?? host.kind} · ${host.capacity.vcpus} CPUs, ${formatMemory(host.capacity.memoryMb)}, ${host.capacity.diskGb} GiB disk.${host.kind === "sim" ? " A simulated host's use is the sum of its guests'." : ""}`}
        actions={<StatusBadge status={host.state} testId="host-state" />}
      />
      <p className="mb-4 text-sm">
        <Link href="/admin/hosts" className="text-sky-700 hover:underline">← All hosts</Link>
      </p>
      <p className="mb-4 text-sm text-slate-700" data-testid="host-in-use">
        {used.environments} environment{used.environments === 1 ? "" : "s"} on it: {used.vcpus} vCPUs, {formatMemory(used.memoryMb)} of {formatMemory(host.capacity.memoryMb)}, {used.diskGb} GiB
      </p>
      <div className="mb-6">
        <EvacuatePanel hostId={host.id} hostName={host.name} hostKind={host.kind} environments={used.environments} latest={latest} />
      </div>
      <UsageCard id="usage" series={series} cpuLabel="all its CPUs" hrefFor={(r) => `/admin/hosts/${host.id}?usage=${r}#usage`} />
    </>
  );
}
