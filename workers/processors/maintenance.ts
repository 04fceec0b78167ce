import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { getQueue, queues } from "@/lib/jobs/queues";
import { sweepLeases } from "@/lib/leases/sweep";
import { releaseFailedOrders } from "@/lib/orders/failed-hold";
import { sweepCourses } from "@/lib/courses/machines";
import { reconcileGuests } from "@/lib/lifecycle/reconcile-guests";
import { applyRequiredPolicies, restoreBackupSchedulers, runScheduledBackup } from "@/lib/backups/policy";
import { restoreClones } from "@/lib/backups/clone";
import { sampleUsage } from "@/lib/usage/sample";
import { applyNetworkPolicyToHosts } from "@/lib/lifecycle/network-policy";
import { reconcile, reconcileActions, reconcileEvacuations, reconcileMail } from "../reconciler";

/** `owner`: null on the shared queue; this worker's id on its own queue (usage of the hosts it owns). */
export function maintenanceProcessor(db: Db, owner: string | null = null) {
  return async (job: Job) => {
    const payload = queues.maintenance.payload.parse(job.data);
    // Tests pass the clock in; jobs from the schedulers run as of now.
    const now = "now" in payload && payload.now ? new Date(payload.now) : new Date();
    switch (payload.task) {
      case "reconcile":
        return {
          runs: await reconcile(db, getQueue("provision")),
          actions: await reconcileActions(db, getQueue("lifecycle")),
          mail: await reconcileMail(db, getQueue("mail")),
          evacuations: await reconcileEvacuations(db, getQueue("fleet")),
          guests: await reconcileGuests(db),
          // Restores as new environments whose order was delivered since.
          clones: await restoreClones(db),
          // Environments of groups that require a backup policy and have none get the group's.
          policies: await applyRequiredPolicies(db),
          // Backup schedules Redis lost (its data went) come back from the policies.
          schedules: (await restoreBackupSchedulers(db)).length,
        };
      case "leases":
        // Failed orders give back what they hold once their hold has passed.
        return { ...(await sweepLeases(db, now)), released: await releaseFailedOrders(db, now) };
      case "courses":
        return sweepCourses(db, now);
      case "backup":
        return runScheduledBackup(db, payload.environmentId);
      case "usage":
        return sampleUsage(db, { owner, now });
      case "network-policy":
        return applyNetworkPolicyToHosts(db, { owner });
    }
  };
}
