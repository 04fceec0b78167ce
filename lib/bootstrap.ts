import { closeDb, getDbHandle } from "./db/client";
import { ensureQemuHosts, qemuAvailable, seedIfEmpty } from "./db/seed";
import { generatePassword, hashPassword } from "./auth/password";
import { env, imageStoreDir, isEmbeddedWorker } from "./env";

const store = globalThis as unknown as { __portalBoot?: Promise<void> };

/**
 * Once per server process: migrate (under an advisory lock on PostgreSQL), seed an empty
 * database, and in the embedded mode start the worker in this same process.
 */
export function bootstrap(): Promise<void> {
  store.__portalBoot ??= (async () => {
    const handle = await getDbHandle();
    const adminPassword = env.ADMIN_PASSWORD ?? generatePassword();
    const seed = await seedIfEmpty(handle.db, { adminEmail: env.ADMIN_EMAIL, adminPasswordHash: () => hashPassword(adminPassword) });
    if (seed.seeded) {
      console.log("First start: created the first admin, a default pool, two sim hosts, two networks and a sample catalog.");
      console.log(`  Admin e-mail:    ${seed.adminEmail}`);
      if (!env.ADMIN_PASSWORD) console.log(`  Admin password:  ${adminPassword}   (shown once; set ADMIN_PASSWORD to choose it)`);
      else console.log("  Admin password:  the value of ADMIN_PASSWORD");
    }
    await registerQemuImages(handle.db).catch((err) => console.warn(`[portal] QEMU images not registered: ${err instanceof Error ? err.message : err}`));
    // Images and environments from before image versions: version 1, and the first version.
    const { ensureImageVersions } = await import("./catalog/versions");
    await ensureImageVersions(handle.db);
    console.log(`[portal] database: ${handle.kind === "pglite" ? `embedded PGlite in ${env.DATA_DIR}/pg` : "PostgreSQL"}`);
    if (!isEmbeddedWorker && handle.kind === "pglite") {
      console.warn("[portal] the embedded database serves one process: without PORTAL_EMBEDDED_WORKER=1 no worker runs orders. Use `npm start`, or set DATABASE_URL and run `npm run worker` beside `npm run web`.");
    }
    if (isEmbeddedWorker) {
      const { startWorkers } = await import("../workers/runtime");
      const workers = await startWorkers();
      // Graceful stop: runs stop after their current step (WORKER_GRACE_MS), then the database
      // closes (PGlite flushes to disk); the next start resumes them.
      // `npm start` sets NEXT_MANUAL_SIG_HANDLE so that Next.js leaves the signals to this.
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`[portal] ${signal}: stopping each run after its current step, then the portal`);
        void workers
          .stop()
          .then(() => closeDb())
          .catch((err) => console.error("[portal] stopping:", err instanceof Error ? err.message : err))
          .finally(() => process.exit(0));
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    }
  })();
  return store.__portalBoot;
}

/**
 * QEMU on this machine: the two local QEMU hosts, and the images `npm run images:build` has
 * built in the image store, registered in the catalog. Never builds (that is a minute of CPU):
 * without built images it says, in one line, how to build them.
 */
async function registerQemuImages(db: Awaited<ReturnType<typeof getDbHandle>>["db"]): Promise<void> {
  if (!qemuAvailable()) return;
  const added = await ensureQemuHosts(db, env.DATA_DIR);
  if (added.length) console.log(`[portal] QEMU found: added hosts ${added.join(", ")}`);
  const [{ LocalTransport }, { registerBuiltImages }] = await Promise.all([import("./drivers/transport/local"), import("./catalog/register-images")]);
  const registered = await registerBuiltImages(db, new LocalTransport(), imageStoreDir);
  if (registered.length) console.log(`[portal] QEMU images in the catalog: ${registered.map((r) => `${r.slug} (${r.sizeMb} MB, version ${r.version}${r.newVersions.length ? `; new: ${r.newVersions.join(", ")}` : ""})`).join(", ")}`);
  else console.log(`[portal] no QEMU guest images built yet in ${imageStoreDir}: run \`npm run images:build\` (under a minute, Debian packages only), then restart the portal`);
}

/** For the server's start-up hook: a portal that cannot start says why in one line and exits. */
export async function bootstrapOrExit(): Promise<void> {
  try {
    await bootstrap();
  } catch (err) {
    console.error("[portal] could not start:", err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
