/**
 * The PostgreSQL database recipe on Xen and Solaris zones hosts, over real SSH against the host
 * EMULATORS (tests/emulators: xl/LVM, zonecfg/zoneadm/zlogin, and what the recipe runs in a
 * guest: tests/emulators/lib/postgres.mjs). No real Xen guest, Solaris zone or PostgreSQL runs
 * here: this checks that the planned files and commands reach the host and the guest's files,
 * that the owner's password reaches the guest only as its SCRAM verifier (at deploy time and
 * through the set-password hook), and that a backup runs the quiesce hook first. It does NOT
 * show that PostgreSQL starts on a real Debian guest or Solaris zone.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import type { DeploySpec, DiskSink, HypervisorDriver, StepIo } from "@/lib/drivers/types";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { scramVerifier } from "@/lib/recipes/scram";
import { goldenDatabasePassword, spec, withPostgresRecipe } from "../fixtures/plan-orders";
import { recordingIo, sharedDir, startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";

let xenHost: EmulatedHost, solHost: EmulatedHost;
const connect = async (h: DeploySpec["host"]) => [xenHost, solHost].find((e) => e.host.id === h.id)!.transport();
const fast = { pollIntervalMs: 20 };
const xen = new XenDriver(connect, fast);
const zones = new ZonesDriver(connect, fast);
const san = sharedDir("san-postgres");

async function must(h: EmulatedHost, argv: string[]) {
  const t = h.transport();
  try {
    const r = await t.run(argv);
    expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
    return r;
  } finally {
    await t.close();
  }
}

async function provision(driver: HypervisorDriver, s: DeploySpec, io: StepIo) {
  for (const step of [driver.resolveImage, driver.packImage, driver.createStorage, driver.unpack, driver.configureNetwork, driver.glue, driver.boot, driver.waitReady]) {
    await step.call(driver, s, io);
  }
}

/** A backup's sink that checksums the copy as the backup store would, and keeps nothing. */
const sink: DiskSink = async (copy) => {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of copy.stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { format: copy.format, sizeBytes: size, sha256: hash.digest("hex") };
};

const roles = (file: string) => JSON.parse(readFileSync(file, "utf8")) as { roles: Record<string, string>; databases: Record<string, { owner: string }> };
const verifierIn = (sqlFile: string) => /^\\set verifier '([^']+)'$/m.exec(readFileSync(sqlFile, "utf8"))![1]!;

beforeAll(async () => {
  [xenHost, solHost] = await Promise.all([
    startEmulatedHost({ name: "xen-pg", kind: "xen", port: 3620, sharedLvm: san }),
    startEmulatedHost({ name: "sol-pg", kind: "zones", port: 3621 }),
  ]);
  // What an admin prepares. Xen: the kernel, and the golden volume of linux-db (Debian 12 with
  // postgresql-15 installed: its programs, the cluster 15/main the package made, the account).
  for (const f of ["vmlinuz", "initrd.img"]) await xenHost.transport().writeFile(`${xenHost.state}/images/${f}`, "kernel\n");
  await must(xenHost, ["lvcreate", "-L", "2G", "-n", "golden-linux-db", "vg0"]);
  await must(xenHost, ["mkfs.ext4", "-q", "-F", "/dev/vg0/golden-linux-db"]);
  const golden = path.join(san, "data/vg0/golden-linux-db");
  for (const [file, content, mode] of [
    ["usr/lib/postgresql/15/bin/postgres", "#!/bin/sh\n", 0o755],
    ["var/lib/postgresql/15/main/PG_VERSION", "15\n", 0o600],
    ["etc/passwd", "postgres:x:106:113:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n", 0o644],
    ["etc/group", "postgres:x:113:\n", 0o644],
  ] as const) {
    // As the host's login user, who owns the emulated volumes.
    await must(xenHost, ["mkdir", "-p", path.dirname(path.join(golden, file))]);
    const t = xenHost.transport();
    await t.writeFile(path.join(golden, file), content, { mode }).finally(() => t.close());
  }
  // Zones: the dataset and the licensed whole-root golden zone.
  await must(solHost, ["zfs", "create", "-o", `mountpoint=${solHost.state}/zones`, "rpool/zones"]);
  const gz = "golden-solaris10-whole-capped";
  const zp = `${solHost.state}/zones/${gz}`;
  await solHost.transport().writeFile(`${solHost.state}/${gz}.cfg`, `create -b\nset zonepath=${zp}\nset autoboot=false\nverify\ncommit\n`);
  await must(solHost, ["zonecfg", "-z", gz, "-f", `${solHost.state}/${gz}.cfg`]);
  await must(solHost, ["zfs", "create", "-o", `mountpoint=${zp}`, `rpool/zones/${gz}`]);
  await must(solHost, ["chmod", "700", zp]);
  await must(solHost, ["zoneadm", "-z", gz, "install"]);
}, 60_000);

afterAll(async () => {
  await closeSshConnections();
  await stopEmulatedHosts([xenHost, solHost]);
});

describe("the database on an emulated Xen host (Debian guest, image linux-db)", () => {
  const s = () => ({ ...withPostgresRecipe(spec({ name: "xen-pgdb", image: "linux-db", flavor: "medium", host: { name: "xen-pg", kind: "xen" }, last: 41 })), host: xenHost.host });

  it("configures Debian's cluster before the first boot, enables the server and the owner's unit, and waits for port 5432", async () => {
    const { io, lines: log } = recordingIo();
    await provision(xen, s(), io);
    const disk = path.join(san, "data/vg0/xen-pgdb");
    const settings = readFileSync(`${disk}/etc/postgresql/15/main/conf.d/portal.conf`, "utf8");
    expect(settings).toContain("listen_addresses = '127.0.0.1,10.30.0.41,10.20.0.41'");
    expect(settings).toContain("password_encryption = scram-sha-256");
    expect(readFileSync(`${disk}/etc/postgresql/15/main/pg_hba.conf`, "utf8")).toMatch(/^host\s+all\s+all\s+samenet\s+scram-sha-256$/m);
    const sql = `${disk}/etc/portal/postgres/database.sql`;
    expect(statSync(sql).mode & 0o777).toBe(0o600);
    expect(readFileSync(sql, "utf8")).not.toContain(goldenDatabasePassword);
    expect(verifierIn(sql)).toMatch(/^SCRAM-SHA-256\$4096:/);
    for (const unit of ["postgresql.service", "portal-postgres.service"]) expect(existsSync(`${disk}/etc/systemd/system/multi-user.target.wants/${unit}`), unit).toBe(true);
    expect(readFileSync(`${disk}/etc/systemd/system/portal-postgres.service`, "utf8")).toMatch(/After=postgresql@15-main\.service[\s\S]*ExecStart=\/etc\/portal\/postgres\/apply/);
    expect(log).toContain(`$ chroot ${xenHost.state}/mnt/portal/xen-pgdb systemctl enable portal-postgres.service`);
    expect(log).toContain("the recipe postgres 1 to answer (PostgreSQL accepts connections on 10.30.0.41 port 5432): yes ()");
    expect(log.join("\n")).not.toContain(goldenDatabasePassword);
  });

  it("sets a new password through the console hook (only its verifier is typed) and quiesces before a backup's snapshot", async () => {
    const { io, lines: log } = recordingIo();
    const verifier = scramVerifier("NewXenPassword0123456789");
    const r = await xen.runGuestHook(s(), "set-password", { input: verifier }, io);
    expect(r).toEqual({ code: 0, output: "set-password: done" });
    const cluster = path.join(san, "data/vg0/xen-pgdb/var/lib/postgresql/15/main");
    expect(roles(`${cluster}/emulated-roles.json`).roles.inv_app).toBe(verifier);

    const stored = await xen.exportDisk(s(), io, sink);
    expect(stored.sizeBytes).toBeGreaterThan(0);
    expect(log).toContain("quiesce freeze: done: quiesce: CHECKPOINT done");
    expect(readFileSync(`${cluster}/emulated-checkpoints.log`, "utf8")).toBe("freeze\nthaw\n");
    // The freeze comes before the snapshot of the backup.
    expect(log.findIndex((l) => l.startsWith("quiesce freeze"))).toBeLessThan(log.findIndex((l) => /^\$ lvcreate -s .* xen-pgdb-backup-/.test(l)));
    await xen.halt(s(), io);
    await xen.destroy(s(), io);
  });
});

describe("the database on an emulated Solaris zones host (the licensed, capped whole-root zone)", () => {
  const s = () => ({
    ...withPostgresRecipe(spec({ name: "zone-pgdb", image: "solaris10-whole-capped", flavor: "capped-2cpu-4g", host: { name: "sol-pg", kind: "zones" }, last: 42 })),
    host: solHost.host,
  });
  const root = () => `${solHost.state}/zones/zone-pgdb/root`;

  it("makes the account, the cluster on /data, starts it with SMF and makes the owner and database through zlogin", async () => {
    const { io, lines: log } = recordingIo();
    await provision(zones, s(), io);
    expect(log).toContain("$ zlogin zone-pgdb '/etc/portal/postgres/apply initdb'");
    expect(log).toContain("$ zlogin zone-pgdb 'svcadm enable -s svc:/application/database/portal-postgres:default'");
    expect(log).toContain("the recipe postgres 1 to answer (PostgreSQL in the zone accepts connections on port 5432): yes (127.0.0.1:5432 - accepting connections)");
    expect(readFileSync(`${root()}/etc/passwd`, "utf8")).toMatch(/^postgres:x:90:90:/m);
    expect(readFileSync(`${root()}/data/pgdata/PG_VERSION`, "utf8")).toBe("15\n");
    const made = roles(`${root()}/data/pgdata/emulated-roles.json`);
    expect(made.databases).toEqual({ inventory: { owner: "inv_app" } });
    expect(made.roles.inv_app).toBe(verifierIn(`${root()}/etc/portal/postgres/database.sql`));
    expect(log.join("\n")).not.toContain(goldenDatabasePassword);
    // The zone is the capped one: 2 CPUs of the host's, so a per-CPU licence is paid for 2.
    const cfg = await must(solHost, ["zonecfg", "-z", "zone-pgdb", "export"]);
    expect(cfg.stdout).toMatch(/add capped-cpu\s+set ncpus=2/);
  });

  it("a rerun of the recipe's commands changes nothing: the owner keeps the password it has", async () => {
    const verifier = scramVerifier("RotatedZonePassword12345");
    const { io } = recordingIo();
    expect(await zones.runGuestHook(s(), "set-password", { input: verifier }, io)).toEqual({ code: 0, output: "set-password: done" });
    await zones.waitReady(s(), io);
    expect(roles(`${root()}/data/pgdata/emulated-roles.json`).roles.inv_app).toBe(verifier);
  });

  it("refuses what is not a verifier in the guest, and quiesces before the backup's ZFS snapshot", async () => {
    const { io, lines: log } = recordingIo();
    expect(await zones.runGuestHook(s(), "set-password", { input: "notAVerifier" }, io)).toMatchObject({ code: 2, output: "set-password: not a SCRAM-SHA-256 verifier" });
    await zones.exportDisk(s(), io, sink);
    expect(log).toContain("quiesce freeze: done: quiesce: CHECKPOINT done");
    expect(log.findIndex((l) => l.startsWith("quiesce freeze"))).toBeLessThan(log.findIndex((l) => /^\$ zfs snapshot/.test(l)));
    expect(readFileSync(`${root()}/data/pgdata/emulated-checkpoints.log`, "utf8")).toBe("freeze\nthaw\n");
    await zones.halt(s(), io);
    await zones.destroy(s(), io);
  });
});
