import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { getQueue, queues } from "@/lib/jobs/queues";
import { reconcileGuests } from "@/lib/lifecycle/reconcile-guests";
import { reconcile, reconcileActions } from "../reconciler";

export function maintenanceProcessor(db: Db) {
  return async (job: Job) => {
    const { task } = queues.maintenance.payload.parse(job.data);
    switch (task) {
      case "reconcile":
        return {
          runs: await reconcile(db, getQueue("provision")),
          actions: await reconcileActions(db, getQueue("lifecycle")),
          guests: await reconcileGuests(db),
        };
    }
  };
}
