/**
 * Worker process entry (`npm run worker`): production shape, beside N web processes.
 * SIGTERM/SIGINT: every run stops after its current step (a step still running after
 * WORKER_GRACE_MS is aborted) and goes back to the queue for the next worker; then queues,
 * then connections; exit 0.
 */
import { closeDb, getDbHandle } from "@/lib/db/client";
import { closeRedis } from "@/lib/redis";
import { env } from "@/lib/env";
import { startWorkers } from "./runtime";

// A promise nobody awaited that fails (a query cut off by a database restart in a background
// task) is logged; it must not end the process and every run it executes.
process.on("unhandledRejection", (reason) => {
  console.error("[worker] unhandled rejection:", reason instanceof Error ? reason.message : reason);
});

async function main() {
  const handle = await getDbHandle();
  if (handle.kind === "pglite") {
    console.error("npm run worker needs DATABASE_URL (PostgreSQL): the embedded database belongs to `npm start`, which runs its own worker.");
    process.exit(1);
  }
  const workers = await startWorkers();
  let exiting = false;
  const stop = async (signal: string) => {
    if (exiting) return;
    exiting = true;
    console.log(`[worker] ${signal}: stopping each run after its current step (grace ${env.WORKER_GRACE_MS} ms), then exiting`);
    await workers.stop();
    await closeRedis();
    await closeDb();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  console.error("[worker] could not start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
