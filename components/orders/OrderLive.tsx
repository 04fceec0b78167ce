"use client";

import type { ReactNode } from "react";
import type { OrderView } from "@/lib/orders/queries";
import { StatusBadge } from "../StatusBadge";
import { formatDateTime, formatMemory, osLabels, statusLabel } from "../format";
import type { OrderEstimate } from "@/lib/delivery/queries";
import type { Preflight } from "@/lib/policy/preflight";
import { ApprovalDecision } from "../policy/ApprovalDecision";
import { DecisionActions } from "./DecisionActions";
import { DeliveryEstimate } from "./DeliveryEstimate";
import { EnvironmentPanel } from "./EnvironmentPanel";
import { MigratePanel } from "./MigratePanel";
import { moveChoice, type MoveOptions } from "./move-choice";
import { ConnectionPanel } from "./ConnectionPanel";
import { ConsolePanel } from "./ConsolePanel";
import { LeasePanel } from "../leases/LeasePanel";
import { decisionSentence } from "@/lib/policy/rules";
import { OrderActions } from "./OrderActions";
import { PowerPanel } from "./PowerPanel";
import { SnapshotsPanel } from "./SnapshotsPanel";
import { ResizePanel } from "./ResizePanel";
import { ReinstallPanel } from "./ReinstallPanel";
import type { Day2Options } from "@/lib/lifecycle/resize";
import { BackupsPanel } from "./BackupsPanel";
import { StepTimeline } from "./StepTimeline";
import { RecipePanel } from "./RecipePanel";
import { useOrderStream } from "./useOrderStream";
import { LiveBreadcrumb, LiveHeading } from "../LiveHeading";
import { CampaignNotices } from "./CampaignNotices";
import type { EnvironmentCampaign } from "@/lib/campaigns/queries";

const reasonTone: Record<string, { box: string; title: string }> = {
  pending_approval: { box: "border-amber-300 bg-amber-50 text-amber-900", title: "Waiting for approval" },
  rejected: { box: "border-rose-300 bg-rose-50 text-rose-900", title: "Rejected" },
  failed: { box: "border-rose-300 bg-rose-50 text-rose-900", title: "Delivery failed" },
  cancelled: { box: "border-slate-300 bg-slate-50 text-slate-800", title: "Cancelled" },
  expiring: { box: "border-amber-300 bg-amber-50 text-amber-900", title: "Lease ended" },
  retiring: { box: "border-orange-300 bg-orange-50 text-orange-900", title: "Being destroyed" },
  retired: { box: "border-slate-300 bg-slate-50 text-slate-800", title: "Destroyed" },
};

/** A heading for the reason line of an order that is on its way (it starts with who decided). */
function reasonTitle(reason: string | null, policy: OrderView["policy"]): string {
  if (!reason) return "Status";
  // The policy's sentence names the outcome itself.
  if (policy && reason === policy.explanation) return "Policy decision";
  if (reason.startsWith("approved")) return "Approved";
  if (reason.startsWith("retried")) return "Retried";
  return "Status";
}

/** A failed order: how long it keeps its host and addresses for a retry, or that it gave them back. */
function HoldNote({ hold }: { hold: NonNullable<OrderView["hold"]> }) {
  const text =
    hold.state === "holding"
      ? `Holds its host and addresses until ${formatDateTime(hold.until)}; retry before then to resume at the failed step. After that they are released.`
      : hold.state === "releasing"
        ? "Its hold has ended: its host and addresses are being released."
        : hold.state === "released"
          ? `Released its host and addresses${hold.at ? ` on ${formatDateTime(hold.at)}` : ""}. A retry starts again from choosing a host.`
          : `Releasing its host and addresses failed${hold.error ? `: ${hold.error}` : ""}. Retry to try the release again.`;
  return (
    <p className="mt-3 text-sm text-slate-700" data-testid="order-hold" data-state={hold.state}>
      {text}
    </p>
  );
}

const inFlight = (a: { status: string }) => a.status === "queued" || a.status === "running";

/** Whether an action other than the card's own kind holds the environment (one action at a time). */
function otherActionRuns(env: NonNullable<OrderView["environment"]>, card: "snapshots" | "resize" | "reinstall"): boolean {
  const ownKind = (action: string) => (card === "resize" ? action === "resize" : card === "snapshots" ? action !== "resize" : false);
  return env.power.some(inFlight) || env.migrations.some(inFlight) || env.day2.some((a) => inFlight(a) && !ownKind(a.action));
}

/**
 * The order page: header, reason, actions, connection, lease, environment and the live
 * pipeline timeline. Every card reads the one live view (server-sent events, else polling),
 * so each follows the order's status without a reload.
 */
export function OrderLive({
  initial,
  isOwner,
  canManage,
  canDecide,
  estimate,
  preflight = null,
  move,
  showSimulated,
  day2,
  campaigns = [],
}: {
  initial: OrderView;
  /** Patch campaigns that hold the environment (its owner may postpone). */
  campaigns?: EnvironmentCampaign[];
  isOwner: boolean;
  /** Whether this viewer is told that a host is simulated (lib/catalog/host-kinds.ts). */
  showSimulated: boolean;
  canManage: boolean;
  canDecide: boolean;
  estimate?: OrderEstimate | null;
  preflight?: Preflight | null;
  /** Admins: the hosts the environment could move to, and what each host kind's driver can do. */
  move?: MoveOptions;
  /** What each host kind can do after delivery (snapshots, resize) and the sizes the order may change to. */
  day2?: Day2Options;
}) {
  const { view, mode, refresh } = useOrderStream(initial);
  const tone = reasonTone[view.status] ?? { box: "border-sky-300 bg-sky-50 text-sky-900", title: reasonTitle(view.reason, view.policy) };
  const env = view.environment;
  // Moves are for a delivered environment; a move under way is followed whatever the order does.
  const moving = env?.migrations[0] && (env.migrations[0].status === "queued" || env.migrations[0].status === "running");
  const showMove = move && env && env.state !== "deleted" && (view.status === "ready" || moving);
  const steps = view.steps;
  const can = env ? day2?.byKind[env.hostKind] : undefined;
  const doneSteps = steps.filter((s) => s.status === "succeeded" || s.status === "skipped").length;

  return (
    <div className="space-y-6">
      <LiveBreadcrumb href="/orders" label="Orders" name={view.name} mono />

      <div className="card p-5">
        <LiveHeading
          name={view.name}
          status={view.status}
          testIds={{ name: "order-name", status: "order-status" }}
          mono
          mode={mode}
          actions={canManage ? <OrderActions orderId={view.id} status={view.status} runFailed={view.run?.status === "failed"} released={view.hold?.state === "released"} onDone={refresh} /> : null}
        >
          {view.image.name} ({osLabels[view.image.os] ?? view.image.os}) · {view.flavor.name} · for {view.owner} in {view.group}
        </LiveHeading>

        {view.reason ? (
          <div className={`mt-4 rounded-md border-l-4 px-4 py-3 ${tone.box}`} role="status" data-testid="order-reason">
            <p className="text-xs font-semibold tracking-wide uppercase opacity-80">{tone.title}</p>
            <p className="mt-0.5 text-sm font-medium">
              {view.policy && view.reason === view.policy.explanation ? decisionSentence(view.policy) : view.reason}
            </p>
          </div>
        ) : null}

        {view.hold ? <HoldNote hold={view.hold} /> : null}

        {view.policy && view.reason !== view.policy.explanation ? (
          <p className="mt-3 text-sm text-slate-600" data-testid="order-policy">
            Policy decision at submission: <span className="font-medium text-slate-900">{decisionSentence(view.policy)}</span>
          </p>
        ) : null}

        {canDecide && view.status === "pending_approval" ? (
          <div className="mt-4 border-t border-slate-100 pt-4">
            <h2 className="mb-2 text-sm">Your decision</h2>
            {preflight ? (
              <ApprovalDecision orderId={view.id} orderName={view.name} preflight={preflight} onDone={refresh} />
            ) : (
              <DecisionActions orderId={view.id} orderName={view.name} onDone={refresh} />
            )}
          </div>
        ) : null}
      </div>

      {env ? <CampaignNotices environmentId={env.id} campaigns={campaigns} canPostpone={canManage} /> : null}

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          {env?.connection ? (
            <ConnectionPanel
              connection={env.connection}
              isOwner={isOwner}
              manage={canManage && view.status === "ready" ? { environmentId: env.id, running: env.state === "running", onDone: refresh } : null}
            />
          ) : null}
          {estimate ? <DeliveryEstimate view={view} initial={estimate} /> : null}
          <RecipePanel orderId={view.id} recipe={view.recipe} accounts={view.accounts} settings={view.settings} isOwner={isOwner} onDone={refresh} />
          {env ? <EnvironmentPanel env={env} orderStatus={view.status} showSimulated={showSimulated} image={view.image} /> : null}
          {env && env.state !== "deleted" ? <PowerPanel env={env} flavor={view.flavor} orderStatus={view.status} canManage={canManage} onDone={refresh} /> : null}
          {canManage && env && view.status === "ready" && env.state !== "deleted" ? <ConsolePanel environmentId={env.id} hostname={env.hostname} /> : null}
          {env && env.state !== "deleted" && view.status === "ready" && can?.snapshots ? (
            <SnapshotsPanel
              environmentId={env.id}
              snapshots={env.snapshots}
              latest={env.day2.find((a) => a.action !== "resize") ?? null}
              busyElsewhere={otherActionRuns(env, "snapshots")}
              canManage={canManage}
              onDone={refresh}
            />
          ) : null}
          {env && env.state !== "deleted" && view.status === "ready" && canManage && day2 && can?.resize ? (
            <ResizePanel
              environmentId={env.id}
              current={view.flavor}
              sizes={day2.sizes}
              latest={env.day2.find((a) => a.action === "resize") ?? null}
              busyElsewhere={otherActionRuns(env, "resize")}
              onDone={refresh}
            />
          ) : null}
          {env && env.state !== "deleted" && view.status === "ready" && canManage ? (
            <ReinstallPanel environmentId={env.id} imageName={view.image.name} canKeepData={!!can?.keepData} disabled={otherActionRuns(env, "reinstall")} onDone={refresh} />
          ) : null}
          {canManage && env && view.status === "ready" && env.state !== "deleted" ? <BackupsPanel environmentId={env.id} changed={view} /> : null}
          {showMove ? (
            <MigratePanel environmentId={env.id} currentHost={env.host} migrations={env.migrations} choice={moveChoice(env, view.flavor, move)} onDone={refresh} />
          ) : null}

          <section className="card" aria-labelledby="pipeline-heading">
            <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
              <h2 id="pipeline-heading" className="text-base">Deploy pipeline</h2>
              {view.run ? (
                <span className="flex flex-wrap items-center gap-2 text-xs text-slate-500">
                  {doneSteps} of {steps.length} steps · run attempt {view.run.attempt}
                  <StatusBadge status={view.run.status} />
                </span>
              ) : null}
            </div>
            <div className="px-5 py-4">
              {view.run?.waitingFor ? (
                <p role="status" className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="run-waiting">
                  Waiting: {view.run.waitingFor.replace(/^waiting for /, "")}. The order continues when that worker is back.
                </p>
              ) : null}
              {steps.length > 0 ? (
                <StepTimeline steps={steps} recipe={view.recipe ? { name: view.recipe.name, steps: view.recipe.steps } : null} />
              ) : (
                <p className="text-sm text-slate-500">
                  {view.status === "pending_approval"
                    ? "The pipeline starts as soon as an approver accepts the order."
                    : view.status === "rejected" || view.status === "cancelled"
                      ? `Nothing was built: the order is ${statusLabel(view.status)}.`
                      : "Waiting for a worker to pick up the order…"}
                </p>
              )}
            </div>
          </section>

          {view.teardown ? (
            <section className="card" aria-labelledby="teardown-heading" data-testid="teardown">
              <div className="flex items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
                <h2 id="teardown-heading" className="text-base">Teardown</h2>
                <StatusBadge status={view.teardown.status} />
              </div>
              <div className="px-5 py-4">
                <StepTimeline steps={view.teardown.steps} />
              </div>
            </section>
          ) : null}
        </div>

        <div className="h-fit space-y-6">
        {view.lease ? <LeasePanel lease={view.lease} canExtend={canManage || canDecide} canDecide={canDecide} onDone={refresh} /> : null}
        <aside className="card h-fit" aria-labelledby="details-heading">
          <h2 id="details-heading" className="border-b border-slate-100 px-5 py-3 text-base">Order details</h2>
          <dl className="space-y-3 px-5 py-4 text-sm">
            <Detail label="Image">{view.image.name}</Detail>
            <Detail label="Size">
              {view.flavor.name}
              <span className="block text-slate-500">
                {view.flavor.vcpus} vCPU{view.flavor.cpuCap ? ` (cap ${view.flavor.cpuCap})` : ""}, {formatMemory(view.flavor.memoryMb)}, {view.flavor.diskGb} GB
              </span>
            </Detail>
            <Detail label="Purpose">{view.purpose}</Detail>
            <Detail label="Lease">{view.leaseDays} days</Detail>
            <Detail label="Ordered by">{view.owner}</Detail>
            <Detail label="Group">{view.group}</Detail>
            <Detail label="Created">{formatDateTime(view.createdAt)}</Detail>
            <Detail label="Ready at">{view.readyAt ? formatDateTime(view.readyAt) : "—"}</Detail>
            <Detail label="Order id"><code className="text-xs break-all text-slate-600">{view.id}</code></Detail>
          </dl>
        </aside>
        </div>
      </div>
    </div>
  );
}

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-slate-500">{label}</dt>
      <dd className="font-medium text-slate-900">{children}</dd>
    </div>
  );
}
