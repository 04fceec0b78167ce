// `npm run bench -- xen`: the Xen driver on a real Xen 4.17 host (the image of `npm run
// xen:build`, booted under QEMU's software emulation like tests/integration/xen-real.test.ts).
//   (a) dom0 boot: QEMU start to dom0's PORTAL-DOM0-READY line (Xen, dom0 kernel, xenstored,
//       xenconsoled, volume group, bridges, sshd);
//   (b) raw: in that dom0, by hand over SSH, `lvcreate -s` of the golden volume, the domain
//       config the driver writes, `xl create`, until the guest's PORTAL-READY line is in its
//       console log; then `xl destroy` and `lvremove`;
//   (c) portal: an order for the same image (createOrder, as POST /api/v1/orders) on that host,
//       submitted to "ready", with each pipeline step's time; its ratio to (b) is the
//       portal's cost (the plan's checks, glue by mounting the volume, SSH round trips).
// Not part of `npm test`; TCG on a busy machine gives other figures.
// Options (environment): BENCH_PG_ADMIN_URL, BENCH_XEN_PORT (dom0's sshd on loopback, default 3305).
import { mkdtempSync, rmSync } from "node:fs";
import { deleteRedisKeys, dropDatabase, freshDatabase } from "./lib.mjs";
import { ensureXenImage } from "./xen/image";
import { bootXenHost } from "../tests/helpers/xen-host";

const adminUrl = process.env.BENCH_PG_ADMIN_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = "redis://127.0.0.1:6379";
const dbName = `portal_bench_xen_${process.pid}`;
const prefix = `benchx_${process.pid}`;
const dataDir = mkdtempSync("/tmp/pbx-");
const port = Number(process.env.BENCH_XEN_PORT || 3305);

const log = (line: string) => console.log(`[bench xen] ${line}`);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const dbUrl = await freshDatabase(adminUrl, dbName);
  Object.assign(process.env, {
    DATABASE_URL: dbUrl, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, DATA_DIR: dataDir,
    ADMIN_PASSWORD: "bench-admin-password", AUTH_SECRET: "bench-secret-bench-secret-bench-secret",
    PORTAL_EMBEDDED_WORKER: "0", LOG_LEVEL: "warn",
  });
  // lib/env.ts reads process.env once, at import: import the portal only now.
  const { getDb, closeDb } = await import("../lib/db/client");
  const { seedIfEmpty } = await import("../lib/db/seed");
  const { hosts, users } = await import("../lib/db/schema");
  const { createOrder, destroyEnvironment, orderView } = await import("../lib/orders/queries");
  const { encryptHostSecret } = await import("../lib/drivers/transport/secrets");
  const { SshTransport, closeSshConnections } = await import("../lib/drivers/transport/ssh");
  const { XenDriver } = await import("../lib/drivers/xen/driver");
  const { xenDomainConfig } = await import("../lib/drivers/xen/plan");
  const { startWorkers } = await import("../workers/runtime");
  const { closeQueues } = await import("../lib/jobs/queues");
  const { closeRedis } = await import("../lib/redis");
  const { eq } = await import("drizzle-orm");
  const { waitFor } = await import("../tests/helpers/portal");
  const until = <T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string, intervalMs = 250) => waitFor(read, done, { timeoutMs, intervalMs, what });

  const image = await ensureXenImage((l) => log(l));
  log(`image ${image.key}: Xen ${image.xenVersion}, ${image.kernelPackage}, ${(image.bytes / 1048576).toFixed(0)} MiB (${image.reused ? "reused" : `built in ${image.buildSeconds} s`})`);
  const xen = await bootXenHost(image, { sshPort: port, bridges: [["xenbr0", "10.20.0.1/24"], ["xenbr1", "10.30.0.1/24"]] });
  log(`(a) dom0 boot: QEMU start to PORTAL-DOM0-READY ${xen.bootSeconds.toFixed(1)} s`);

  const db = await getDb();
  const { hashPassword } = await import("../lib/auth/password");
  await seedIfEmpty(db, { adminEmail: "admin@portal.local", adminPasswordHash: () => hashPassword("bench-admin-password") });
  await db.update(hosts).set({ state: "offline" }).where(eq(hosts.kind, "sim"));
  const id = crypto.randomUUID();
  await db.insert(hosts).values({
    id, name: "xen-real", kind: "xen", address: "127.0.0.1", port, sshUser: xen.sshUser, sshPrivateKey: encryptHostSecret(id, xen.privateKey),
    cpuCapacity: 2, memoryMbCapacity: 2048, diskGbCapacity: 39, state: "offline", config: { guestType: "pv" } as never,
  });
  const [admin] = await db.select().from(users).where(eq(users.email, "admin@portal.local"));
  const actor = { id: admin!.id, role: admin!.role, email: admin!.email };
  const workers = await startWorkers();
  try {
    // Pin dom0's host key as Test connection would (tests/integration/xen-real.test.ts goes through it).
    const first = new SshTransport({ id: `${id}-pin`, address: "127.0.0.1", port, user: xen.sshUser, privateKey: xen.privateKey, hostKeyFingerprint: null, allowUnpinned: true });
    await first.run(["true"]);
    const fingerprint = first.presentedHostKey;
    await first.close();
    await db.update(hosts).set({ state: "active", hostKeyFingerprint: fingerprint }).where(eq(hosts.id, id));
    const dom0 = new SshTransport({ id: `${id}-bench`, address: "127.0.0.1", port, user: xen.sshUser, privateKey: xen.privateKey, hostKeyFingerprint: fingerprint });
    const sh = async (argv: string[]) => {
      const r = await dom0.run(argv, { timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.trim() || `exit ${r.code}`}`);
      return r.stdout;
    };
    await sh(["lvcreate", "-y", "-L", "64M", "-n", "golden-linux-test", "vg0"]);
    await sh(["dd", "if=/var/lib/xen/images/golden-linux-xen.ext4", "of=/dev/vg0/golden-linux-test", "bs=4M"]);

    // (b) raw: the same domain config the driver writes, by hand; no glue (the guest comes up
    // with the golden filesystem's hostname and no addresses), ready when its line is logged.
    const rawName = "bench-raw";
    const spec = {
      orderId: "00000000-0000-4000-8000-0000000000b1", hostname: rawName,
      image: { slug: "linux-test", os: "linux", source: "clone", rootType: null, sizeMb: 2048 },
      flavor: { vcpus: 1, memoryMb: 1024, diskGb: 10, cpuCap: null, memoryCapMb: null },
      host: { id, name: "xen-real", kind: "xen", address: "127.0.0.1", config: { guestType: "pv" } },
      addresses: [], sshPublicKey: null,
    } as unknown as Parameters<typeof xenDomainConfig>[0];
    await dom0.writeFile(`/etc/xen/${rawName}.cfg`, xenDomainConfig(spec, XenDriver.config(spec.host)));
    const r0 = Date.now();
    await sh(["lvcreate", "-s", "-L", "10G", "-n", rawName, "vg0/golden-linux-test"]);
    const rLv = Date.now() - r0;
    await sh(["xl", "create", `/etc/xen/${rawName}.cfg`]);
    const rCreate = Date.now() - r0 - rLv;
    await until(() => dom0.run(["cat", `/var/log/xen/console/guest-${rawName}.log`]).then((r) => r.stdout), (out) => /^PORTAL-READY /m.test(out), 600_000, "the raw guest's PORTAL-READY", 500);
    const rawMs = Date.now() - r0;
    log(`(b) raw: lvcreate -s ${s(rLv)}, xl create ${s(rCreate)}, to the guest's PORTAL-READY ${s(rawMs)} in all`);
    await sh(["xl", "destroy", rawName]);
    await sh(["lvremove", "-f", `vg0/${rawName}`]);
    await sh(["rm", "-f", `/etc/xen/${rawName}.cfg`, `/var/log/xen/console/guest-${rawName}.log`]);

    // (c) the same image through the portal.
    const o0 = Date.now();
    const created = await createOrder(db, actor, { image: "linux-test", flavor: "small", name: "bench-xen1" });
    const ready = await until(() => orderView(db, created.id), (r) => ["ready", "failed"].includes(r.status), 900_000, "the order to be ready", 250);
    const portalMs = Date.now() - o0;
    if (ready.status !== "ready") throw new Error(`order failed: ${JSON.stringify(ready.steps.filter((st) => st.status === "failed")).slice(0, 2000)}`);
    const guestReady = await until(() => dom0.run(["cat", "/var/log/xen/console/guest-bench-xen1.log"]).then((r) => r.stdout), (out) => /^PORTAL-READY /m.test(out), 120_000, "the portal guest's PORTAL-READY", 500);
    log(`(c) portal: order submitted to ready ${s(portalMs)} (${guestReady.match(/^PORTAL-READY .*$/m)![0].slice(0, 120)})`);
    for (const st of ready.steps) log(`      ${st.name.padEnd(14)} ${st.durationMs === null || st.durationMs === undefined ? "?" : s(st.durationMs)}`);
    log(`(c) ratio portal / raw: ${(portalMs / rawMs).toFixed(2)}× (portal adds ${s(portalMs - rawMs)})`);

    const d0 = Date.now();
    await destroyEnvironment(db, actor, created.id);
    await until(() => orderView(db, created.id), (r) => ["retired", "failed"].includes(r.status), 600_000, "the order to be retired", 250);
    log(`    destroy (halt, xl destroy, lvremove, rm): ${s(Date.now() - d0)}`);
    await dom0.close();
  } finally {
    await workers.stop();
    await closeSshConnections();
    await xen.stop();
    await closeQueues();
    await closeRedis();
    await closeDb();
    await deleteRedisKeys(redisUrl, prefix);
    await dropDatabase(adminUrl, dbName);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[bench xen] ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  },
);
