"use client";

import { useState } from "react";
import type { OrderView } from "@/lib/orders/queries";
import { api } from "../api-client";
import { formatDateTime, formatMemory } from "../format";

type Environment = NonNullable<OrderView["environment"]>;
type Flavor = OrderView["flavor"];

const verbs = { start: { doing: "Starting", done: "Started", failed: "Start failed" }, stop: { doing: "Stopping", done: "Stopped", failed: "Stop failed" } } as const;

/** What caps the guest's resources on its host, in words (the Linux analog of a capped container). */
function capText(env: Environment, flavor: Flavor): string | null {
  if (env.hostKind !== "qemu") return null;
  const cap = flavor.cpuCap ?? flavor.vcpus;
  return `QEMU guest with ${flavor.vcpus} vCPU${flavor.vcpus === 1 ? "" : "s"} (-smp) and ${formatMemory(flavor.memoryMb)} (-m); its QEMU process may use at most ${cap} CPU${cap === 1 ? "" : "s"} of host time (cgroup CPU quota), like a capped container. The boot step's log says whether the host applied the quota.`;
}

/**
 * Start and stop of a delivered environment (its customer and admins), with the running
 * action's progress and the last result; the order's event stream refreshes it.
 */
export function PowerPanel({ env, flavor, orderStatus, canManage, onDone }: { env: Environment; flavor: Flavor; orderStatus: string; canManage: boolean; onDone: () => Promise<void> }) {
  const [busy, setBusy] = useState<"start" | "stop" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = env.power[0];
  const inFlight = latest && (latest.status === "queued" || latest.status === "running");
  const delivered = orderStatus === "ready";
  const cap = capText(env, flavor);
  if (!delivered && !cap) return null;

  async function act(action: "start" | "stop") {
    setBusy(action);
    setError(null);
    const res = await api(`/api/v1/environments/${env.id}/${action}`, { method: "POST" });
    if (!res.ok) setError(res.error);
    await onDone();
    setBusy(null);
  }

  const canStart = delivered && !inFlight && (env.state === "stopped" || env.state === "error");
  const canStop = delivered && !inFlight && (env.state === "running" || env.state === "error");

  return (
    <section className="card" aria-labelledby="power-heading" data-testid="power-panel">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="power-heading" className="text-base">Guest power</h2>
        {canManage && delivered ? (
          <div className="flex w-full gap-2 sm:w-auto">
            <button type="button" className="btn btn-primary flex-1 sm:flex-none" disabled={!canStart || busy !== null} onClick={() => act("start")}>
              {busy === "start" ? "Starting…" : "Start"}
            </button>
            <button type="button" className="btn btn-secondary flex-1 sm:flex-none" disabled={!canStop || busy !== null} onClick={() => act("stop")}>
              {busy === "stop" ? "Stopping…" : "Stop"}
            </button>
          </div>
        ) : null}
      </div>
      <div className="space-y-2 px-5 py-4 text-sm">
        {inFlight ? (
          <p role="status" data-testid="power-progress" className="text-sky-900">
            <span className="font-medium">{latest.status === "queued" ? `${verbs[latest.action].doing} (queued)` : `${verbs[latest.action].doing}…`}</span>
            {latest.note ? <span className="ml-2 text-slate-600">{latest.note}</span> : null}
          </p>
        ) : latest ? (
          <p data-testid="power-last" className={latest.status === "failed" ? "text-rose-800" : "text-slate-700"}>
            <span className="font-medium">{latest.status === "failed" ? verbs[latest.action].failed : verbs[latest.action].done}</span>
            {latest.finishedAt ? <span className="text-slate-500"> at {formatDateTime(latest.finishedAt)}</span> : null}
            {latest.error ? <span className="block">{latest.error}</span> : null}
          </p>
        ) : delivered ? (
          <p className="text-slate-500">
            {env.state === "running"
              ? "The guest is running. Stop shuts it down in order (ACPI power button, forced after a timeout); its disk and addresses stay."
              : env.state === "stopped"
                ? "The guest is stopped. Start boots it again from its disk; it is running again when it reports in."
                : `The guest is ${env.state}.`}
          </p>
        ) : null}
        {cap ? <p className="text-slate-600" data-testid="cpu-cap">{cap}</p> : null}
        {error ? <p role="alert" className="text-rose-700">{error}</p> : null}
      </div>
    </section>
  );
}
