/**
 * The command plans for a set of orders equal reviewed golden files (tests/golden/*.plan):
 * one command per line, files with their content. A change to a plan shows up here as a
 * diff to review. `UPDATE_GOLDEN=1 npx vitest run tests/unit/plans-golden.test.ts` rewrites
 * them; a normal run never writes, and a missing golden file fails.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { deploymentPlan } from "@/lib/drivers/plan/deployment";
import { renderPlan } from "@/lib/drivers/plan/render";
import type { Plan } from "@/lib/drivers/plan/types";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { xenMigrationPlan, xenStoppedMovePlan } from "@/lib/drivers/xen/migration";
import { xenSnapshotStep } from "@/lib/drivers/xen/plan";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import { zoneMovePlan } from "@/lib/drivers/zones/move";
import { xenDeleteSnapshotStep, xenResizePlan, xenRevertPlan, xenTakeSnapshotStep } from "@/lib/drivers/xen/day2";
import { zoneDeleteSnapshotStep, zoneResizePlan, zoneRevertPlan, zoneSnapshotStep } from "@/lib/drivers/zones/day2";
import { xenBackupPlan, xenRestorePlan, xenVerifyPlan } from "@/lib/drivers/xen/backup";
import { zoneBackupPlan, zoneMarkerStep, zoneRestorePlan, zoneVerifyPlan } from "@/lib/drivers/zones/backup";
import { xenHostUsageStep, xenUsageStep } from "@/lib/drivers/xen/usage";
import { xenReinstallKeepDataPlan } from "@/lib/drivers/xen/reinstall";
import { zoneUsageStep, zonesHostUsageStep } from "@/lib/drivers/zones/usage";
import { xenNetworkPolicyStep, xenServiceIpAttachStep, xenServiceIpDetachStep, xenServiceIpOfflineStep, xenServiceIpPersistStep } from "@/lib/drivers/xen/service-ips";
import { zoneNetworkPolicyStep, zoneServiceIpAttachStep, zoneServiceIpDetachStep } from "@/lib/drivers/zones/service-ips";
import { goldenNetworkPolicy, goldenOrders, goldenServiceIp, goldenZonesConfig } from "../fixtures/plan-orders";

const dir = path.resolve(import.meta.dirname, "../golden");
const update = process.env.UPDATE_GOLDEN === "1";

/** Moves and backups, as plans of their own (source and target steps in order). */
function lifecyclePlans(): Record<string, Plan> {
  const xen = goldenOrders["xen-small"];
  const xen2 = { ...xen.host, id: "00000000-0000-4000-8000-0000000000a2", name: "xen-2", address: "xen-2.example.org" };
  const m = xenMigrationPlan(xen, XenDriver.config(xen.host), xen2, XenDriver.config(xen2), "xen-2.example.org");
  const zone = goldenOrders["zone-capped"];
  const sol2 = { ...zone.host, id: "00000000-0000-4000-8000-0000000000a3", name: "sol-2", address: "sol-2.example.org", config: goldenZonesConfig };
  const z = zoneMovePlan(zone, ZonesDriver.config(zone.host), sol2, ZonesDriver.config(sol2), "sol-2.example.org", "portal-move-20261125t120000");
  // Stopped guests moved cold: Xen writes the domain config on the target; the zone stays halted.
  const xs = xenStoppedMovePlan(xen, XenDriver.config(xen.host), xen2, XenDriver.config(xen2));
  const zs = zoneMovePlan(zone, ZonesDriver.config(zone.host), sol2, ZonesDriver.config(sol2), "sol-2.example.org", "portal-move-20261125t120000", { boot: false });
  const xv = xenVerifyPlan(xen, XenDriver.config(xen.host), "3f2a9c1e", "/var/tmp/portal-verify-3f2a9c1e.gz");
  const zv = zoneVerifyPlan(zone, ZonesDriver.config(zone.host), "3f2a9c1e", "/var/tmp/portal/portal-verify-3f2a9c1e.gz");
  return {
    "xen-migrate": { kind: "xen", host: "xen-1 -> xen-2", guest: xen.hostname, steps: [m.prepare, m.migrate, m.verify, m.cleanup, xenSnapshotStep(xen, XenDriver.config(xen.host), "backup-20261125")] },
    "zone-move": { kind: "zones", host: "sol-1 -> sol-2", guest: zone.hostname, steps: [z.preflight, z.detach, z.attach, z.cleanup] },
    "xen-move-stopped": { kind: "xen", host: "xen-1 -> xen-2", guest: xen.hostname, steps: [xs.check, xs.prepare, xs.cleanup] },
    "zone-move-stopped": { kind: "zones", host: "sol-1 -> sol-2", guest: zone.hostname, steps: [zs.preflight, zs.detach, zs.attach, zs.cleanup] },
    "xen-backup": { kind: "xen", host: xen.host.name, guest: xen.hostname, steps: xenBackupPlan(xen, XenDriver.config(xen.host), "backup-20261125", "/var/tmp/portal-backup-20261125.gz") },
    "xen-restore": { kind: "xen", host: xen.host.name, guest: xen.hostname, steps: xenRestorePlan(xen, XenDriver.config(xen.host), "/var/tmp/portal-backup-20261125.gz") },
    "zone-backup": {
      kind: "zones",
      host: zone.host.name,
      guest: zone.hostname,
      steps: [zoneMarkerStep(zone, "portal-backup 3f2a9c1e-0000-4000-8000-000000000001"), ...zoneBackupPlan(zone, ZonesDriver.config(zone.host), "/var/tmp/portal-backup-20261125.gz")],
    },
    "xen-verify": { kind: "xen", host: xen.host.name, guest: "verify-3f2a9c1e", steps: [...xv.boot, xv.cleanup] },
    "zone-verify": { kind: "zones", host: zone.host.name, guest: "verify-3f2a9c1e", steps: [...zv.boot, zv.cleanup] },
    "zone-restore": { kind: "zones", host: zone.host.name, guest: zone.hostname, steps: zoneRestorePlan(zone, ZonesDriver.config(zone.host), "/var/tmp/portal-backup-20261125.gz") },
    // A reinstall that keeps /data: teardown sets the dataset aside, the deployment takes it back.
    "zone-reinstall-keep": ZonesDriver.plan({ ...zone, keepData: true }),
    ...day2Plans(),
    ...serviceIpPlans(),
    // A reinstall keeping /data: the delivery's storage and unpack between setting the old disk aside and copying /data.
    "xen-reinstall-keep-data": { kind: "xen", host: xen.host.name, guest: xen.hostname, steps: xenReinstallKeepDataPlan(xen, XenDriver.config(xen.host)) },
    // What the usage sampler reads (lib/drivers/xen/usage.ts, lib/drivers/zones/usage.ts).
    "xen-usage": { kind: "xen", host: xen.host.name, guest: xen.hostname, steps: [xenUsageStep(xen, XenDriver.config(xen.host)), xenHostUsageStep(XenDriver.config(xen.host))] },
    "zone-usage": { kind: "zones", host: zone.host.name, guest: zone.hostname, steps: [zoneUsageStep(zone, ZonesDriver.config(zone.host)), zonesHostUsageStep(ZonesDriver.config(zone.host))] },
  };
}

/**
 * Service IPs and separated networks: a service IP put on a running guest (its spec lists it),
 * taken off again (a move defers the guest's file to afterwards), the file of a running and of
 * a stopped guest; the networks apart on the host with production and test routed.
 */
function serviceIpPlans(): Record<string, Plan> {
  const sip = goldenServiceIp;
  const xen = goldenOrders["xen-small"];
  const xenCfg = XenDriver.config(xen.host);
  const xenWith = { ...xen, serviceIps: [sip] };
  const zone = goldenOrders["zone-capped"];
  const zoneCfg = ZonesDriver.config(zone.host);
  return {
    "xen-service-ip": {
      kind: "xen", host: xen.host.name, guest: xen.hostname,
      steps: [
        xenServiceIpAttachStep(xenWith, xenCfg, sip), xenServiceIpDetachStep(xen, xenCfg, sip, false), xenServiceIpPersistStep(xen, xenCfg),
        xenServiceIpOfflineStep(xenWith, xenCfg), xenNetworkPolicyStep(xenCfg, goldenNetworkPolicy),
      ],
    },
    "zone-service-ip": {
      kind: "zones", host: zone.host.name, guest: zone.hostname,
      steps: [zoneServiceIpAttachStep({ ...zone, serviceIps: [sip] }, zoneCfg, sip), zoneServiceIpDetachStep(zone, zoneCfg, sip), zoneNetworkPolicyStep(zoneCfg, goldenNetworkPolicy)],
    },
    // A rebuild of a zone a service IP points at: its zonecfg keeps the address.
    "zone-service-ip-rebuild": ZonesDriver.plan({ ...zone, serviceIps: [sip] }),
  };
}

/**
 * Snapshots (take, revert of a running guest, delete) and resizes: Xen small -> large; a zone
 * gaining caps (sparse small -> capped), having them changed, and losing them.
 */
function day2Plans(): Record<string, Plan> {
  const tag = "portal-0123456789abcdef";
  const xen = goldenOrders["xen-small"];
  const xenCfg = XenDriver.config(xen.host);
  const large = goldenOrders["xen-large"].flavor;
  const sparse = goldenOrders["zone-sparse"];
  const capped = goldenOrders["zone-capped"];
  const zoneCfg = ZonesDriver.config(sparse.host);
  const bigger = { vcpus: 6, memoryMb: 8192, diskGb: 60, cpuCap: 3, memoryCapMb: 6144 };
  return {
    "xen-day2": {
      kind: "xen", host: xen.host.name, guest: xen.hostname,
      steps: [xenTakeSnapshotStep(xen, xenCfg, tag), ...xenRevertPlan(xen, xenCfg, tag, true), xenDeleteSnapshotStep(xen, xenCfg, tag), ...xenResizePlan({ ...xen, flavor: large }, xen.flavor, xenCfg)],
    },
    "zone-day2": {
      kind: "zones", host: sparse.host.name, guest: sparse.hostname,
      steps: [
        zoneSnapshotStep(sparse, zoneCfg, tag), ...zoneRevertPlan(sparse, zoneCfg, tag, true), zoneDeleteSnapshotStep(sparse, zoneCfg, tag),
        ...zoneResizePlan({ ...sparse, flavor: capped.flavor }, sparse.flavor, zoneCfg),
        ...zoneResizePlan({ ...sparse, flavor: bigger }, capped.flavor, zoneCfg),
        ...zoneResizePlan({ ...sparse, flavor: { ...bigger, cpuCap: null, memoryCapMb: null } }, capped.flavor, zoneCfg),
      ],
    },
  };
}

describe("golden command plans", () => {
  const plans: Record<string, Plan> = { ...Object.fromEntries(Object.entries(goldenOrders).map(([name, spec]) => [name, deploymentPlan(spec)!])), ...lifecyclePlans() };
  for (const [name, plan] of Object.entries(plans)) {
    it(`${name}: the plan equals tests/golden/${name}.plan`, () => {
      const text = renderPlan(plan);
      const file = path.join(dir, `${name}.plan`);
      if (update) writeFileSync(file, text);
      expect(existsSync(file), `${file} is missing: review the plan and write it with UPDATE_GOLDEN=1`).toBe(true);
      expect(text).toBe(readFileSync(file, "utf8"));
    });
  }

  it("says in every plan what was run on a real host of its kind and what only against emulators", () => {
    for (const spec of Object.values(goldenOrders)) {
      expect(renderPlan(deploymentPlan(spec)!)).toContain(spec.host.kind === "xen" ? "were run on a real Xen 4.17 host" : "Not run on a real Solaris host");
      expect(renderPlan(deploymentPlan(spec)!)).toContain("only against host emulators");
    }
  });

  it("never shows the root password hash", () => {
    const text = renderPlan(deploymentPlan(goldenOrders["zone-capped"])!);
    expect(text).toContain("root_password=<crypt(3) hash, not shown>");
    expect(text).not.toContain("portalsalt");
  });
});
