import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { requireUser } from "@/lib/auth/require-user";
import { getDb } from "@/lib/db/client";
import { hostFailureInjection, hostsPageAt } from "@/lib/hosts/queries";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { HostConnection } from "@/components/admin/HostConnection";
import { HostControls } from "@/components/admin/HostControls";
import { HostTagsForm } from "@/components/admin/HostTagsForm";
import { HostCapacityForm } from "@/components/admin/HostCapacityForm";
import { RegisterHostForm } from "@/components/admin/RegisterHostForm";
import { formatMemory, hostKindLabels } from "@/components/format";
import { Pager, pageNumber } from "@/components/Pager";
import { WorkersPanel } from "@/components/admin/WorkersPanel";
import { listWorkers } from "@/lib/workers/registry";

export const metadata: Metadata = { title: "Hosts" };
export const dynamic = "force-dynamic";

/**
 * Hypervisor hosts: register one with its SSH login, test the connection (pins the host key,
 * discovers capacity), activate or drain it, remove it. Private keys never reach this page.
 */
/** A host's features in words (what its kind's driver can do, and features rules match). */
const featureLabels: Record<string, string> = { vms: "virtual machines", zones: "Solaris zones", "live-migration": "live migration", "cold-move": "cold moves", "cpu-cap": "CPU caps" };

/** Host cards a page, by name. */
const HOSTS_PER_PAGE = 10;
const pageHref = (page: number) => (page > 1 ? `/admin/hosts?page=${page}` : "/admin/hosts");

export default async function HostsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser("/admin/hosts");
  if (user.role !== "admin") forbidden();
  const page = pageNumber((await searchParams).page);
  const db = await getDb();
  const [{ hosts, total }, injections, workers] = await Promise.all([
    hostsPageAt(db, { offset: (page - 1) * HOSTS_PER_PAGE, perPage: HOSTS_PER_PAGE }),
    hostFailureInjection(db),
    listWorkers(db),
  ]);
  const ownerLive = new Map(workers.map((w) => [w.id, w.live]));
  const pager = (label: string) => <Pager label={label} what="Hosts" page={page} perPage={HOSTS_PER_PAGE} total={total} shown={hosts.length} href={pageHref} />;

  return (
    <>
      <PageHeader
        title="Hypervisor hosts"
        description="Register Xen, Solaris zones and QEMU hosts the portal reaches over SSH. A new host stays offline until Test connection has pinned its host key and found its capacity; then activate it. Draining hosts keep their environments but get no new ones; evacuate a host from its page to move them off it."
        actions={
          <Link href="/admin/hosts/rebalance" className="btn btn-secondary w-full sm:w-auto">
            Rebalance memory use
          </Link>
        }
      />
      <div className="grid gap-6 xl:grid-cols-3">
        <section aria-labelledby="hosts-list-heading" className="space-y-4 xl:col-span-2">
          <h2 id="hosts-list-heading">Hosts ({total})</h2>
          <p className="text-sm text-slate-600">By name, {HOSTS_PER_PAGE} a page.</p>
          {total > 0 ? <div className="card">{pager("Hosts pages")}</div> : null}
          {total === 0 ? (
            <p className="card p-5 text-sm text-slate-600">No hosts yet. Register one with the form; orders wait in the queue until a host of their kind is active.</p>
          ) : null}
          {hosts.map((h) => (
            <article key={h.id} className="card p-5" aria-label={`Host ${h.name}`} data-testid="host-card">
              <div className="flex flex-wrap items-start justify-between gap-3">
                <div>
                  <h3 className="text-base">
                    {h.name} <Link href={`/admin/hosts/${h.id}`} className="ml-2 text-xs font-normal text-sky-700 hover:underline">Use and maintenance</Link>
                  </h3>
                  <p className="text-xs text-slate-500">
                    {hostKindLabels[h.kind] ?? h.kind} · <span className="font-mono">{h.address}</span>
                    {h.kind === "xen" || h.kind === "zones" ? " · commands built from the documented tools; not yet run against a real host of this kind" : ""}
                  </p>
                </div>
                <StatusBadge status={h.state} testId="host-state" />
              </div>
              <div className="mt-4 grid gap-4 md:grid-cols-2">
                <div className="space-y-2 text-sm">
                  <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs">
                    <dt className="text-slate-500">Capacity</dt>
                    <dd data-testid="host-capacity-summary">
                      {h.capacity.vcpus === 0 ? (
                        <span className="text-amber-700">unknown until Test connection</span>
                      ) : (
                        `${h.capacity.vcpus} CPUs, ${formatMemory(h.capacity.memoryMb)}, ${h.capacity.diskGb} GiB disk`
                      )}
                      {Object.keys(h.capacityOverride).length ? (
                        <span className="text-slate-500">
                          {" "}(set by hand: {(["vcpus", "memoryMb", "diskGb"] as const).filter((k) => h.capacityOverride[k] !== undefined).map((k) => ({ vcpus: "CPUs", memoryMb: "memory", diskGb: "disk" })[k]).join(", ")})
                        </span>
                      ) : null}
                    </dd>
                    <dt className="text-slate-500">Offers</dt>
                    <dd data-testid="host-features">{h.features.length ? h.features.map((f) => featureLabels[f] ?? f).join(", ") : "—"}</dd>
                    {h.ownerWorker ? (
                      <>
                        <dt className="text-slate-500">Owner</dt>
                        <dd data-testid="host-owner">
                          worker <span className="break-all font-mono">{h.ownerWorker}</span>
                          {ownerLive.get(h.ownerWorker) ? null : <span className="font-medium text-amber-700"> · owner offline: its orders wait for it</span>}
                        </dd>
                      </>
                    ) : null}
                    <dt className="text-slate-500">In use</dt>
                    <dd>
                      {h.used.environments} environment{h.used.environments === 1 ? "" : "s"}: {h.used.vcpus} vCPUs, {formatMemory(h.used.memoryMb)}, {h.used.diskGb} GiB
                    </dd>
                  </dl>
                  <HostControls hostId={h.id} hostName={h.name} kind={h.kind} state={h.state} failSteps={injections.get(h.id) ?? {}} />
                  <HostTagsForm hostId={h.id} tags={h.tags} />
                  <HostCapacityForm hostId={h.id} capacity={h.capacity} override={h.capacityOverride} />
                </div>
                <HostConnection
                  hostId={h.id}
                  hostName={h.name}
                  kind={h.kind}
                  address={h.address}
                  connection={h.connection}
                  settings={h.settings}
                  lastCheck={h.lastCheck}
                  environments={h.used.environments}
                />
              </div>
            </article>
          ))}
          {total > HOSTS_PER_PAGE ? <div className="card">{pager("Hosts pages, bottom")}</div> : null}
        </section>
        <div className="space-y-6">
          <section aria-labelledby="register-heading" className="card h-fit p-5">
            <h2 id="register-heading" className="mb-3 text-base">Register a host</h2>
            <RegisterHostForm />
          </section>
          <WorkersPanel workers={workers} />
        </div>
      </div>
    </>
  );
}
