import Link from "next/link";
import { StatusBadge } from "../StatusBadge";

export type Machine = { orderId: string; name: string; status: string; envState: string | null; ip: string | null; resets: number; reason: string | null };

/** A lab machine in one line: name (link to its order page), status, guest state and address. */
export function MachineState({ machine }: { machine: Machine }) {
  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      <Link prefetch={false} href={`/orders/${machine.orderId}`} className="font-mono font-medium text-sky-800 hover:underline">{machine.name}</Link>
      <StatusBadge status={machine.status} testId="machine-status" />
      {machine.envState ? <span className="text-xs text-slate-500">guest {machine.envState}</span> : null}
      {machine.ip ? <span className="font-mono text-xs text-slate-700" data-testid="machine-ip">{machine.ip}</span> : null}
    </span>
  );
}

export const busyStatuses = ["queued", "provisioning", "retiring"];
