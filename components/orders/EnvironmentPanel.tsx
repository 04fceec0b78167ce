import type { OrderView } from "@/lib/orders/queries";
import { formatDateTime, hostKindLabels } from "../format";
import { TableHead } from "../TableHead";
import { VersionBadge } from "./VersionBadge";

type Environment = NonNullable<OrderView["environment"]>;

const envTone: Record<string, string> = {
  creating: "bg-indigo-50 text-indigo-800 ring-indigo-300",
  running: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  stopped: "bg-slate-100 text-slate-700 ring-slate-300",
  migrating: "bg-sky-50 text-sky-800 ring-sky-300",
  deleting: "bg-orange-50 text-orange-800 ring-orange-300",
  deleted: "bg-slate-100 text-slate-600 ring-slate-300",
  error: "bg-rose-50 text-rose-800 ring-rose-300",
};

/** Where the environment runs and how to reach it. */
function title(env: Environment, orderStatus: string): string {
  if (env.state === "deleted") return "Environment (destroyed)";
  if (env.state === "deleting" || orderStatus === "retiring") return "Environment (being destroyed)";
  if (orderStatus === "ready") return "Delivered environment";
  if (orderStatus === "expiring") return "Environment (stopped: its lease ended)";
  if (orderStatus === "failed") return "Environment (partly built)";
  if (orderStatus === "cancelled") return "Environment (cancelled)";
  return "Environment (being built)";
}

export function EnvironmentPanel({
  env,
  orderStatus,
  showSimulated,
  image,
}: {
  env: Environment;
  orderStatus: string;
  showSimulated: boolean;
  /** The image's name and current version, for the version it was built from. */
  image?: { name: string; currentVersion: number | null; currentChangelog: string | null };
}) {
  return (
    <section className="card" aria-labelledby="env-heading" data-testid="environment-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="env-heading" className="text-base">{title(env, orderStatus)}</h2>
        <span className="flex items-center gap-2 text-xs text-slate-500">
          Guest
          <span data-testid="environment-state" className={`rounded-full px-2.5 py-0.5 font-medium ring-1 ring-inset ${envTone[env.state] ?? envTone.stopped}`}>
            {env.state}
          </span>
        </span>
      </div>
      <dl className="grid grid-cols-1 gap-x-6 gap-y-3 px-5 py-4 text-sm sm:grid-cols-2">
        <div>
          <dt className="text-slate-500">Hostname</dt>
          <dd className="font-mono font-medium text-slate-900 wrap-anywhere">{env.hostname}</dd>
        </div>
        <div>
          <dt className="text-slate-500">Host</dt>
          <dd className="font-medium text-slate-900" data-testid="environment-host">
            {env.host}
            {env.hostKind !== "sim" || showSimulated ? <span className="font-normal text-slate-500"> ({hostKindLabels[env.hostKind] ?? env.hostKind})</span> : null}
          </dd>
        </div>
        <div className="sm:col-span-2">
          <dt className="text-slate-500">Placement</dt>
          <dd className="text-slate-800">{env.placement}</dd>
        </div>
        {env.imageVersion !== null ? (
          <div className="sm:col-span-2">
            <dt className="text-slate-500">Image version</dt>
            <dd className="text-slate-800" data-testid="environment-image-version">
              {image?.name} <VersionBadge version={env.imageVersion} current={image?.currentVersion} outdated={env.outdated} />
              {env.outdated && image?.currentChangelog ? (
                <span className="mt-1 block text-xs text-slate-600">Version {image.currentVersion}: {image.currentChangelog}. A reinstall keeping /data, or a patch campaign, brings it up to date.</span>
              ) : null}
            </dd>
          </div>
        ) : null}
        <div>
          <dt className="text-slate-500">Expires at</dt>
          <dd className="text-slate-800">{formatDateTime(env.expiresAt)}</dd>
        </div>
      </dl>
      <div className="overflow-x-auto border-t border-slate-100">
        {env.addresses.length === 0 ? (
          <p className="px-5 py-4 text-sm text-slate-500">
            {env.state === "deleted" ? "Its addresses were freed." : "Addresses are allocated by the “Allocate IPs and MACs” step."}
          </p>
        ) : (
          <table className="table table-stack" aria-label="Network addresses">
            <TableHead columns={["Network", "IP address", "MAC address"]} />
            <tbody>
              {env.addresses.map((a) => (
                <tr key={`${a.network}-${a.ip}`} data-testid="address-row">
                  <td>
                    <span className="font-medium text-slate-900">{a.networkName}</span>
                    <span className="ml-2 text-xs text-slate-500">{a.purpose}</span>
                  </td>
                  <td data-label="IP address" className="font-mono" data-testid="address-ip">{a.ip}</td>
                  <td data-label="MAC address" className="font-mono" data-testid="address-mac">{a.mac}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
