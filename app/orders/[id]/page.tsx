import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { orderForActor, orderView } from "@/lib/orders/queries";
import { isApproverFor } from "@/lib/policy/approvers";
import { requireUser } from "@/lib/auth/require-user";
import { UserError } from "@/lib/errors";
import { OrderLive } from "@/components/orders/OrderLive";
import { orderEstimate } from "@/lib/delivery/queries";
import { preflight } from "@/lib/policy/preflight";
import { moveFeatures, type MoveOptions, type MoveSupport } from "@/components/orders/move-choice";
import { listHostsWithUsage } from "@/lib/hosts/queries";
import { driverFor } from "@/lib/pipeline/drivers";
import { CPU_OVERCOMMIT } from "@/lib/policy/placement";
import type { Db } from "@/lib/db/client";
import { hostKinds, ipAllocations, type HostKind } from "@/lib/db/schema";
import { shownHostKinds } from "@/lib/catalog/host-kinds";
import { isUuid } from "@/lib/validation/ids";
import { day2Options } from "@/lib/lifecycle/resize";
import { usageRangeInput, usageSeries } from "@/lib/usage/series";
import { UsageCard } from "@/components/usage/UsageCharts";
import { eq } from "drizzle-orm";
import { serviceIpsOfGroupOn } from "@/lib/net/service-ips";
import { ServiceIpsCard } from "@/components/orders/ServiceIpsCard";
import { attachServiceIpAction, detachServiceIpAction } from "@/app/service-ips/actions";

export const metadata: Metadata = { title: "Order" };


export default async function OrderPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { id } = await params;
  const user = await requireUser(`/orders/${id}`);
  if (!isUuid(id)) notFound();
  const db = await getDb();
  let order;
  try {
    order = await orderForActor(db, user, id);
  } catch (err) {
    if (err instanceof UserError && err.status === 404) notFound();
    throw err;
  }
  const [view, estimate, canDecide, move] = await Promise.all([
    orderView(db, id),
    orderEstimate(db, id),
    isApproverFor(db, user, order.groupId),
    // Computed for every host kind: the environment may be placed only after the page loaded.
    user.role === "admin" ? moveOptions(db) : undefined,
  ]);
  const canManage = user.role === "admin" || order.userId === user.id;
  // Approvers of a held order see, computed now, whether it would succeed.
  const check = canDecide && order.status === "pending_approval" ? await preflight(db, id) : null;
  // Snapshots, resize and reinstall of a delivered environment (owner and admins act; approvers see snapshots).
  const day2 = canManage || canDecide ? await day2Options(db, id) : undefined;
  // What a delivered environment uses, for its owner and admins (server-rendered charts; the range is a link).
  const delivered = view.environment && !["creating", "deleted"].includes(view.environment.state) ? view.environment : null;
  const parsedRange = usageRangeInput.safeParse({ range: (await searchParams).usage });
  const range = parsedRange.success ? parsedRange.data.range : "1h";
  const usage = canManage && delivered ? await usageSeries(db, delivered.id, range) : null;
  // Service IPs: owner, approvers and admins see them; members who may change them get the forms.
  const sp = await searchParams;
  const sipEnv = view.environment && view.environment.state !== "deleted" && view.status === "ready" ? view.environment : null;
  const canChangeIps = canManage || (canDecide && user.role !== "student");
  const sipChoices = sipEnv && canChangeIps
    ? await serviceIpsOfGroupOn(db, order.groupId, (await db.select({ id: ipAllocations.networkId }).from(ipAllocations).where(eq(ipAllocations.orderId, id))).map((a) => a.id))
    : [];
  return (
    <>
      <OrderLive key={view.id} initial={view} isOwner={order.userId === user.id} canManage={canManage} canDecide={canDecide} estimate={estimate} preflight={check} move={move} day2={day2} showSimulated={shownHostKinds(user.role, ["sim"]).length > 0} />
      {sipEnv ? (
        <div className="mt-6">
          <ServiceIpsCard
            env={{ id: sipEnv.id, hostname: sipEnv.hostname, state: sipEnv.state, orderId: id }}
            serviceIps={sipEnv.serviceIps}
            choices={sipChoices}
            canManage={canChangeIps}
            notice={typeof sp.sip_notice === "string" ? sp.sip_notice : undefined}
            error={typeof sp.sip_error === "string" ? sp.sip_error : undefined}
            attach={attachServiceIpAction}
            detach={detachServiceIpAction}
          />
        </div>
      ) : null}
      {usage && delivered ? (
        <div className="mt-6">
          <UsageCard id="usage" series={usage} cpuLabel="its vCPUs" hrefFor={(r) => `/orders/${id}?usage=${r}#usage`} />
        </div>
      ) : null}
    </>
  );
}

/**
 * For admins: the features of the hosts that offer a move, the active ones an environment
 * could move to, and per host kind whether its driver moves guests live (the page decides
 * with moveChoice). Hosts without a move feature are left out: never a target, and an
 * environment on one cannot move, as moveChoice says of a host it does not find.
 */
async function moveOptions(db: Db): Promise<MoveOptions> {
  const support: Partial<Record<HostKind, MoveSupport>> = {};
  for (const kind of hostKinds) support[kind] = liveSupport(db, kind);
  const hosts = (await listHostsWithUsage(db)).filter((h) => moveFeatures.some((f) => h.features.includes(f)));
  const targets = hosts
    .filter((h) => h.state === "active")
    .map((h) => ({
      id: h.id, name: h.name, kind: h.kind, features: h.features,
      freeMemoryMb: h.capacity.memoryMb - h.used.memoryMb, freeVcpus: h.capacity.vcpus * CPU_OVERCOMMIT - h.used.vcpus,
    }));
  return { features: Object.fromEntries(hosts.map((h) => [h.name, h.features])), targets, support };
}

function liveSupport(db: Db, kind: HostKind): MoveSupport {
  try {
    const driver = driverFor(kind, db);
    if (driver.capabilities.liveMigration && driver.migrate) return { live: true };
    if (driver.capabilities.coldMove && driver.migrate) {
      return {
        live: false,
        cold: true,
        why: `Environments on ${kind} hosts cannot be migrated live. A cold move halts the guest, sends it to the target host and boots it there: it is down for the whole transfer.`,
      };
    }
    return {
      live: false,
      why: driver.capabilities.liveMigration
        ? `Live migration of environments on ${kind} hosts is not available in this version of the portal.`
        : driver.capabilities.coldMove
          ? `Environments on ${kind} hosts cannot be migrated live; they offer only a cold move.`
          : `Environments on ${kind} hosts cannot be moved in this version.`,
    };
  } catch {
    return { live: false, why: `This version of the portal has no driver for ${kind} hosts.` };
  }
}
