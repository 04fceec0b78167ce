import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { getQueue, queues } from "@/lib/jobs/queues";
import { sweepLeases } from "@/lib/leases/sweep";
import { sweepCourses } from "@/lib/courses/machines";
import { reconcileGuests } from "@/lib/lifecycle/reconcile-guests";
import { reconcile, reconcileActions } from "../reconciler";

export function maintenanceProcessor(db: Db) {
  return async (job: Job) => {
    const payload = queues.maintenance.payload.parse(job.data);
    switch (payload.task) {
      case "reconcile":
        return {
          runs: await reconcile(db, getQueue("provision")),
          actions: await reconcileActions(db, getQueue("lifecycle")),
          guests: await reconcileGuests(db),
        };
      case "leases":
        return sweepLeases(db, payload.now ? new Date(payload.now) : new Date());
      case "courses":
        return sweepCourses(db, payload.now ? new Date(payload.now) : new Date());
    }
  };
}
