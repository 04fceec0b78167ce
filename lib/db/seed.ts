import { count, eq } from "drizzle-orm";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Db } from "./client";
import { flavors, groups, hosts, images, imageVersions, memberships, networks, users } from "./schema";

/**
 * First start on an empty database: the first admin, a default customer pool, a pool of
 * `sim` hosts, a service and a production network, and a sample catalog. The caller hashes the
 * admin's password (storage does not know how), only when the database is empty.
 */
export async function seedIfEmpty(db: Db, opts: { adminEmail: string; adminPasswordHash: () => Promise<string>; qemuHosts?: { dataDir: string } }) {
  const [{ n }] = await db.select({ n: count() }).from(users);
  if (n > 0) return { seeded: false as const };
  const passwordHash = await opts.adminPasswordHash();
  await db.transaction(async (tx) => {
    const [admin] = await tx.insert(users).values({ email: opts.adminEmail.toLowerCase(), name: "Administrator", role: "admin", passwordHash }).returning();
    const [pool] = await tx.insert(groups).values({ slug: "default", name: "Default pool", autoApprove: false }).returning();
    await tx.insert(memberships).values({ userId: admin.id, groupId: pool.id, role: "approver" });
    await tx.insert(hosts).values([
      { name: "sim-1", kind: "sim", address: "sim://sim-1", cpuCapacity: 16, memoryMbCapacity: 65536, diskGbCapacity: 2000, features: ["vms"] },
      { name: "sim-2", kind: "sim", address: "sim://sim-2", cpuCapacity: 16, memoryMbCapacity: 65536, diskGbCapacity: 2000, features: ["vms"] },
    ]);
    await tx.insert(networks).values([
      { slug: "service", name: "Service network", purpose: "service", cidr: "10.20.0.0/24", gateway: "10.20.0.1", bridge: "xenbr0" },
      { slug: "production", name: "Production network", purpose: "production", cidr: "10.30.0.0/24", gateway: "10.30.0.1", bridge: "xenbr1" },
    ]);
    // Each sample image is at its version 1 (they are not built here; QEMU images get theirs at registration).
    for (const row of await tx.insert(images).values(sampleImages).returning({ id: images.id, createdAt: images.createdAt })) {
      const [v] = await tx.insert(imageVersions).values({ imageId: row.id, number: 1, builtAt: row.createdAt, changelog: "First version" }).returning({ id: imageVersions.id });
      await tx.update(images).set({ currentVersionId: v!.id }).where(eq(images.id, row.id));
    }
    await tx.insert(flavors).values(sampleFlavors);
  });
  if (opts.qemuHosts) await ensureQemuHosts(db, opts.qemuHosts.dataDir);
  return { seeded: true as const, adminEmail: opts.adminEmail.toLowerCase() };
}

/** Where QEMU is expected; without it the portal seeds no QEMU hosts. */
export const qemuBinary = "/usr/bin/qemu-system-x86_64";

export function qemuAvailable(): boolean {
  return existsSync(qemuBinary);
}

/**
 * Two QEMU hosts on this machine (`qemu-1`, `qemu-2`, address "local"), each with its own
 * work folder under DATA_DIR/hosts/<name>, so real guests run and live-migrate between them.
 * Idempotent: existing hosts of those names are left as they are. Returns the names added.
 */
export async function ensureQemuHosts(db: Db, dataDir: string): Promise<string[]> {
  const rows = ["qemu-1", "qemu-2"].map((name): typeof hosts.$inferInsert => ({
    name,
    kind: "qemu" as const,
    address: "local",
    cpuCapacity: 2,
    memoryMbCapacity: 4096,
    diskGbCapacity: 200,
    features: ["vms", "live-migration"],
    // The QEMU driver's host config (kept in the same jsonb column as the sim's settings).
    config: { workDir: path.resolve(dataDir, "hosts", name) } as typeof hosts.$inferInsert["config"],
  }));
  const added = await db.insert(hosts).values(rows).onConflictDoNothing().returning({ name: hosts.name });
  return added.map((r) => r.name);
}

export const sampleImages: (typeof images.$inferInsert)[] = [
  {
    slug: "linux-test", name: "Linux test server", os: "linux", version: "Debian 12", hostKinds: ["sim", "xen"],
    source: "clone", purpose: "test", sizeMb: 2048, description: "Minimal Debian server for tests: SSH, your key, nothing else.",
  },
  {
    slug: "linux-dev", name: "Linux development box", os: "linux", version: "Debian 12", hostKinds: ["sim", "xen"],
    source: "clone", purpose: "development", sizeMb: 4096, description: "Compilers, git and build tools.",
  },
  {
    slug: "linux-db", name: "Linux database server", os: "linux", version: "Debian 12 + PostgreSQL 15", hostKinds: ["sim", "xen"],
    source: "copy", purpose: "database", sizeMb: 6144, description: "PostgreSQL on its own full copy of the golden disk.",
  },
  {
    slug: "linux-web", name: "Linux web service", os: "linux", version: "Debian 12 + nginx", hostKinds: ["sim", "xen"],
    source: "install-file", purpose: "web", sizeMb: 3072, description: "nginx installed from an install file, service IP ready.",
  },
  {
    slug: "solaris10-sparse", name: "Solaris 10 sparse-root zone", os: "solaris", version: "Solaris 10 1/13", hostKinds: ["sim", "zones"],
    source: "clone", rootType: "sparse", purpose: "development", sizeMb: 512,
    description: "Shares /lib, /platform, /sbin and /usr with the global zone: small and fast to deliver.",
  },
  {
    slug: "solaris10-whole-capped", name: "Solaris 10 whole-root zone, capped CPU", os: "solaris", version: "Solaris 10 1/13",
    hostKinds: ["sim", "zones"], source: "clone", rootType: "whole", purpose: "database", sizeMb: 4096, licensed: true,
    description: "Own copy of everything; capped CPUs so a per-CPU licence is paid only for the cap.",
  },
];

export const sampleFlavors: (typeof flavors.$inferInsert)[] = [
  { slug: "small", name: "Small", vcpus: 1, memoryMb: 1024, diskGb: 10 },
  { slug: "medium", name: "Medium", vcpus: 2, memoryMb: 4096, diskGb: 20 },
  { slug: "large", name: "Large", vcpus: 4, memoryMb: 8192, diskGb: 40 },
  { slug: "capped-2cpu-4g", name: "Capped: 2 CPUs, 4 GiB", vcpus: 4, memoryMb: 4096, diskGb: 40, cpuCap: 2, memoryCapMb: 4096 },
];
