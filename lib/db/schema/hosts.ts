import { sql } from "drizzle-orm";
import { integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { hostKinds } from "./catalog";

export type SimHostConfig = {
  /** Per-step duration in ms; falls back to SIM_STEP_MS. */
  stepMs?: number;
  /** Step name -> how many more times that step fails (failure injection). */
  failSteps?: Record<string, number>;
};

export type CapacityOverride = { vcpus?: number; memoryMb?: number; diskGb?: number };

/** What the latest "Test connection" found (shown on the admin page). */
export type HostCheck = {
  ok: boolean;
  at: string;
  durationMs: number;
  /** What went wrong, in words an admin can act on (null when ok). */
  error: string | null;
  /** The host key the host presented. */
  presentedHostKey: string | null;
  facts: HostFacts | null;
};

/** Capacity and versions as the host reports them (capability discovery per kind). */
export type HostFacts = {
  vcpus: number;
  memoryMb: number;
  freeMemoryMb: number | null;
  diskGb: number;
  freeDiskGb: number | null;
  /** e.g. "Xen 4.17.3", "QEMU emulator version 7.2.19", "SunOS 5.10". */
  version: string | null;
  /** One line each, e.g. "3 zones besides the global zone: web1 (running), ...". */
  details: string[];
};

export const hosts = pgTable(
  "hosts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    kind: text("kind", { enum: hostKinds }).notNull(),
    /** Host name or IP literal reached over SSH; "local" runs on the worker's own machine; sim://... for sim hosts. */
    address: text("address").notNull(),
    state: text("state", { enum: ["active", "draining", "offline"] }).notNull().default("active"),
    cpuCapacity: integer("cpu_capacity").notNull(),
    memoryMbCapacity: integer("memory_mb_capacity").notNull(),
    diskGbCapacity: integer("disk_gb_capacity").notNull(),
    /**
     * Capacity figures an admin set by hand (e.g. to keep room for the host's own services);
     * a Test connection leaves these alone and updates only the others.
     */
    capacityOverride: jsonb("capacity_override").$type<CapacityOverride>(),
    features: text("features").array().notNull().default([]),
    /** Admins' labels (e.g. "batch"): a group whose pool names a tag places its orders on hosts carrying it. */
    tags: text("tags").array().notNull().default([]),
    config: jsonb("config").$type<SimHostConfig & Record<string, unknown>>().notNull().default({}),
    /** SSH port. */
    port: integer("port").notNull().default(22),
    sshUser: text("ssh_user"),
    /**
     * The SSH private key, encrypted at rest (lib/drivers/transport/secrets.ts, AES-256-GCM with a key
     * derived from AUTH_SECRET). Never selected for a page or an API answer.
     */
    sshPrivateKey: text("ssh_private_key"),
    /** The public half of that key (for ~user/.ssh/authorized_keys on the host); not a secret. */
    sshPublicKey: text("ssh_public_key"),
    /** The pinned host key, "SHA256:<base64>" as ssh-keygen -l prints it; null until the first test. */
    hostKeyFingerprint: text("host_key_fingerprint"),
    /** Commands the portal runs at once on this host. */
    maxConcurrency: integer("max_concurrency").notNull().default(4),
    lastCheck: jsonb("last_check").$type<HostCheck>(),
    /**
     * The worker (WORKER_ID) that alone runs work on this host: a local QEMU host's guests live
     * on that worker's machine. Claimed by the first worker that starts while the host has no
     * owner, or set by an admin; null (SSH and sim hosts) means any worker.
     */
    ownerWorker: text("owner_worker"),
    /** Removed by an admin; kept only as the history of the environments that lived on it. */
    removedAt: timestamp("removed_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // A removed host's name can be registered again.
  (t) => [uniqueIndex("hosts_name_idx").on(t.name).where(sql`${t.removedAt} is null`)],
);

export type Host = typeof hosts.$inferSelect;
