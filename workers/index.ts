/**
 * Worker process entry (`npm run worker`): production shape, beside N web processes.
 * SIGTERM/SIGINT: close workers (running steps finish), then queues, then connections.
 */
import { closeDb, getDbHandle } from "@/lib/db/client";
import { closeRedis } from "@/lib/redis";
import { startWorkers } from "./runtime";

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
    console.log(`[worker] ${signal}: finishing running steps, then stopping`);
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
