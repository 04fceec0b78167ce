import type { Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { getQueue, queues } from "@/lib/jobs/queues";
import { sweepLeases } from "@/lib/leases/sweep";
import { sweepCourses } from "@/lib/courses/machines";
import { reconcile } from "../reconciler";

export function maintenanceProcessor(db: Db) {
  return async (job: Job) => {
    const payload = queues.maintenance.payload.parse(job.data);
    switch (payload.task) {
      case "reconcile":
        return reconcile(db, getQueue("provision"));
      case "leases":
        return sweepLeases(db, payload.now ? new Date(payload.now) : new Date());
      case "courses":
        return sweepCourses(db, payload.now ? new Date(payload.now) : new Date());
    }
  };
}
