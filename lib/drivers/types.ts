import type { Duplex, Readable } from "node:stream";
import type { HostUsageCounters, UsageCounters } from "./usage";

export type { HostUsageCounters, UsageCounters };

/**
 * The hypervisors the portal drives. The hosts table's kind column holds the same names
 * (lib/hosts/input.ts checks at compile time that the two lists agree).
 */
export const hostKinds = ["sim", "qemu", "xen", "zones"] as const;
export type HostKind = (typeof hostKinds)[number];

/** What a driver's step receives: the order as the portal knows it, and a way to report. */
export type DeploySpec = {
  orderId: string;
  /** Guest name on the host (also its hostname): validated, safe for commands. */
  hostname: string;
  image: {
    slug: string; os: "linux" | "solaris"; source: "install-file" | "clone" | "copy"; rootType: "sparse" | "whole" | null; sizeMb: number;
    /**
     * The version of the image the environment is built from (recorded by the resolve step):
     * its number, and its build's key in the image store (null: no files of its own, e.g. a
     * simulated image, or the newest golden build). Null for environments from before versions.
     */
    version?: { number: number; build: string | null } | null;
  };
  flavor: { vcpus: number; memoryMb: number; diskGb: number; cpuCap: number | null; memoryCapMb: number | null };
  host: { id: string; name: string; kind: HostKind; address: string; config: Record<string, unknown> };
  addresses: { network: string; purpose: "service" | "production"; ip: string; mac: string; cidr: string; gateway: string; bridge: string }[];
  sshPublicKey: string | null;
  /**
   * Service IPs pointing at this environment: each rides on the guest's NIC of its network (the
   * address in `addresses` with that network), and glue keeps them across restarts and rebuilds.
   */
  serviceIps?: ServiceIpRef[];
  /** Which networks' guests may reach each other through the host (applied when the host's networks are set up). */
  networkPolicy?: NetworkPolicy;
  /**
   * Set on a rebuild that keeps the data (reinstall with keepData): destroy leaves the guest's
   * data disk aside and createStorage takes it back instead of making a new one.
   */
  keepData?: boolean;
  /** The order's recipe, rendered for this guest (lib/recipes); null or absent: a bare image. */
  recipe?: GuestRecipe | null;
  /** Accounts the order adds besides the owner's root login. */
  accounts?: GuestAccount[];
  /** System settings the order asked for (allowed by its recipe). */
  settings?: GuestSettings | null;
  /** The order's recipe as commands and files for Xen and zones guests (lib/recipes hostPlan). */
  recipePlan?: GuestHostPlan | null;
};

/** A service IP on a guest: its address and the network (slug) whose NIC carries it. */
export type ServiceIpRef = { ip: string; network: string };

/**
 * Networks are kept apart on a host: a guest on one cannot reach a guest on another through
 * the host, except for the pairs in `routes` (network slugs), which an admin marked routed.
 * `networks` are all the portal's networks (each driver names their devices its own way).
 */
export type NetworkPolicy = {
  networks: { slug: string; cidr: string; bridge: string }[];
  routes: [string, string][];
};

/** Watches an address from the host's side while a service IP moves (./qemu/service-ips.ts). */
export type AddressWatch = {
  /** Waits (at most `timeoutMs`) until the address has answered after the time `since` (epoch ms); true when it did. */
  answeredSince(since: number, timeoutMs: number): Promise<boolean>;
  /** Ends the watch: the longest time the address did not answer while it was watched, and how that was measured. */
  stop(): Promise<{ downtimeMs: number | null; note: string }>;
};

/**
 * A recipe rendered for one guest: its files, a setup script run at every boot (idempotent;
 * keeps what it made once on /data; prints `step NAME` to start each of its own steps) and a
 * check run until it passes, whose last line holds `key=value` words the guest reports as
 * `app.key=value`. Scripts are POSIX sh (busybox on the QEMU image). Everything in it was
 * rendered by the portal from checked parameters; no value reaches a shell unquoted.
 */
export type GuestRecipe = {
  slug: string;
  version: string;
  /** How long the check may take to pass after setup, in seconds. */
  timeoutSeconds: number;
  /** The names of the recipe's own steps, in order (a driver that runs no setup, sim, reports them). */
  steps?: string[];
  /** Absolute paths in the guest (under /etc, /srv, /opt, /var or /data only). */
  files: { path: string; data: string | Buffer; mode?: number }[];
  setup: string;
  check: string;
};

/**
 * A recipe rendered for a Xen or zones guest: files to put into the guest (absolute paths in
 * the guest), commands to run inside it (argument vectors; Xen: chroot on the mounted root
 * before boot, zones: zlogin after boot) and a probe run from the host until its output
 * matches `ready`. Tested only against the host emulators (tests/emulators).
 */
export type GuestHostPlan = {
  slug: string;
  version: string;
  files: { path: string; content: string; mode: number; description: string }[];
  commands: { argv: string[]; description: string }[];
  check: { argv: string[]; ready: string; description: string };
};

/** An account the order adds: a login name, its uid, supplementary groups and its SSH keys (one per line). */
export type GuestAccount = { name: string; uid: number; groups: string[]; sshKeys: string };

/**
 * sysctl values and environment variables for the service (/etc/portal/env in the guest:
 * KEY=value lines; values may hold spaces, so a recipe reads the file line by line and never
 * sources it as shell code).
 */
export type GuestSettings = { sysctl: Record<string, string>; env: Record<string, string> };

/**
 * The account the glue step gives the owner's SSH key on every guest: root on Linux (Xen,
 * QEMU) and in Solaris zones, the only account the images have.
 */
export const GUEST_LOGIN_USER = "root";

export type StepIo = {
  log: (line: string) => Promise<void>;
  signal: AbortSignal;
};

export type DriverCapabilities = {
  /** The guest keeps running while it moves (QEMU -incoming + QMP migrate, `xl migrate`). */
  liveMigration: boolean;
  /** The guest can be moved stopped (zones: detach, send, attach). */
  coldMove: boolean;
  cpuCap: boolean;
  sparseRoot: boolean;
  /** Snapshots of the guest's disk that it can be reverted to (takeSnapshot, revertSnapshot, deleteSnapshot). */
  snapshots: boolean;
  /** vCPUs, memory and caps can be changed and the disk grown (resize). */
  resize: boolean;
  /** A rebuild from the image can keep the guest's data filesystem (/data). */
  keepData: boolean;
};

/** What the guest is doing on its host, as the host says (reconciled after a worker restart). */
export type GuestStatus = "running" | "stopped" | "missing";

/** What a move measured; shown on the environment's page. */
export type MigrationResult = { mode: "live" | "cold"; totalMs: number; downtimeMs: number | null; transferredBytes: number | null };

export type MigrateIo = StepIo & {
  /** Progress for the page, e.g. (42, "transferred 120 of 290 MiB"). */
  progress: (percent: number, note: string) => Promise<void>;
};

/**
 * One implementation per hypervisor kind. Every method is idempotent: it checks whether its
 * work is already done on the host and only then acts, because delivery is at least once.
 */
export interface HypervisorDriver {
  readonly kind: HostKind;
  readonly capabilities: DriverCapabilities;
  // mk_image
  resolveImage(spec: DeploySpec, io: StepIo): Promise<void>;
  packImage(spec: DeploySpec, io: StepIo): Promise<void>;
  // mk_virtual
  createStorage(spec: DeploySpec, io: StepIo): Promise<void>;
  unpack(spec: DeploySpec, io: StepIo): Promise<void>;
  configureNetwork(spec: DeploySpec, io: StepIo): Promise<void>;
  glue(spec: DeploySpec, io: StepIo): Promise<void>;
  boot(spec: DeploySpec, io: StepIo): Promise<void>;
  waitReady(spec: DeploySpec, io: StepIo): Promise<void>;
  // lifecycle
  halt(spec: DeploySpec, io: StepIo): Promise<void>;
  destroy(spec: DeploySpec, io: StepIo): Promise<void>;
  // backups: every kind (see exportDisk, verifyDisk, importDisk below)
  // lifecycle of a delivered environment (optional: the capabilities say what a kind can do)
  start?(spec: DeploySpec, io: StepIo): Promise<void>;
  /** Orderly shutdown (ACPI powerdown / `xl shutdown` / `zoneadm halt`), forced after a timeout. */
  stop?(spec: DeploySpec, io: StepIo): Promise<void>;
  status?(spec: DeploySpec): Promise<GuestStatus>;
  /** Moves the guest to `target`; on failure the guest is left running where it was. */
  migrate?(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult>;
  /**
   * Moves a stopped guest (its disk and configuration) to `target`, where it stays stopped
   * until started: a cold move with no downtime to speak of. On failure it stays where it was.
   */
  moveStopped?(spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult>;
  /**
   * The guest's interactive console with a login shell: what is written is typed, what is
   * read is the terminal's output. Ending the stream closes the console, never the guest.
   */
  openConsole?(spec: DeploySpec): Promise<Duplex>;
  /** Takes snapshot `tag` of the guest (with its memory where it runs and the kind can); idempotent by tag. */
  takeSnapshot?(spec: DeploySpec, tag: string, io: StepIo): Promise<SnapshotTaken>;
  /**
   * Puts the guest back to the snapshot; name, addresses and MACs stay (they are the spec's).
   * Returns whether the guest runs afterwards.
   */
  revertSnapshot?(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<{ running: boolean }>;
  /** Removes the snapshot; nothing to do when it is gone already. */
  deleteSnapshot?(spec: DeploySpec, snap: SnapshotRef, io: StepIo): Promise<void>;
  /**
   * Stops the guest, gives it `spec.flavor` (vCPUs, memory, caps; the disk only grows from
   * `from.diskGb`) and starts it again until it reports ready.
   */
  resize?(spec: DeploySpec, from: DeploySpec["flavor"], io: StepIo): Promise<void>;
  /**
   * A standalone copy of the guest's disk (no backing files), from one consistent point while
   * the guest runs where the driver can (QEMU: a QMP block job; Xen: an LVM snapshot; zones: a
   * ZFS snapshot), streamed into `sink` (the backup store, which compresses it unless it comes
   * compressed and checksums it as it streams). Never held whole in memory. With `marker`, the
   * driver first writes that line to BACKUP_MARKER_FILE in the running guest (`marker` says
   * whether it could), so a verification can read it back from the copy.
   */
  exportDisk(spec: DeploySpec, io: StepIo, sink: DiskSink, opts?: { marker?: string }): Promise<StoredDisk & { marker: boolean }>;
  /**
   * Proves a copy: boots it as a throwaway guest named `verify-<probe>` on a network of its
   * own (no production addresses, nothing reachable), waits for its ready line, reads
   * BACKUP_MARKER_FILE (null when there is none) and removes the guest again, also on failure.
   */
  verifyDisk(spec: DeploySpec, disk: DiskCopy, probe: string, io: StepIo): Promise<{ marker: string | null }>;
  importDisk(spec: DeploySpec, disk: DiskCopy, io: StepIo): Promise<void>;
  /**
   * Puts the copy in place of the guest's disk while the guest is not running, without booting
   * it (a rebuild that rolls back: the boot step follows). Kinds without it cannot roll back in place.
   */
  replaceDisk?(spec: DeploySpec, disk: DiskCopy, io: StepIo): Promise<void>;
  /**
   * Runs the recipe's hook `hook` (GUEST_HOOKS) in the running guest with `arg` as its one
   * argument and `input` as one line on its standard input, and resolves with its exit code
   * and output. QEMU and Xen type it on the guest's console shell, zones run it through
   * zlogin. `input` must match GUEST_HOOK_INPUT: it is typed inside single quotes.
   */
  runGuestHook?(spec: DeploySpec, hook: GuestHook, opts: { arg?: string; input?: string }, io: StepIo): Promise<GuestHookResult>;
  /** What the running guest has used so far (cumulative counters; lib/drivers/usage.ts); `at`: the sampler's clock, which only sim reads. */
  usage?(spec: DeploySpec, at?: Date): Promise<UsageCounters>;
  /** What the whole host has used so far and what it has. */
  hostUsage?(host: DeploySpec["host"]): Promise<HostUsageCounters>;
  /**
   * Puts service IP `sip` on the running guest (announced to its network) and keeps it there
   * across restarts: `spec.serviceIps` already lists it. Idempotent.
   */
  attachServiceIp?(spec: DeploySpec, sip: ServiceIpRef, io: StepIo): Promise<void>;
  /**
   * Takes service IP `sip` off the guest, running or stopped: `spec.serviceIps` no longer lists
   * it. With `persist: false` only off the running guest, the configuration left for a
   * `persistServiceIps` afterwards (a move: the new guest answers sooner). Idempotent.
   */
  detachServiceIp?(spec: DeploySpec, sip: ServiceIpRef, io: StepIo, opts?: { persist?: boolean }): Promise<void>;
  /** Writes the guest's configuration so that its next boot has exactly `spec.serviceIps`; the running guest is not touched. */
  persistServiceIps?(spec: DeploySpec, io: StepIo): Promise<void>;
  /** Starts watching `ip` from the host's side of the guest's network (where the driver can). */
  watchAddress?(spec: DeploySpec, ip: string): Promise<AddressWatch>;
  /** Applies `policy` (which networks may reach each other) on the host now, without touching its guests. */
  applyNetworkPolicy?(host: DeploySpec["host"], policy: NetworkPolicy, io: StepIo): Promise<void>;
}


/** A snapshot as the host knows it: `tag` is its name there (qcow2 tag, LV suffix, ZFS snapshot name). */
export type SnapshotRef = { tag: string; withMemory: boolean };

/** What taking a snapshot saved. */
export type SnapshotTaken = { withMemory: boolean; sizeBytes: number | null };

/**
 * A stored disk copy as the drivers read it back (verifyDisk, importDisk): `open()` gives a
 * new stream of its gzip-compressed bytes each time (the file in the backup store); `sizeBytes`
 * is the compressed size. `format` names what the uncompressed bytes are (qcow2, xen-raw, ...).
 */
export type DiskCopy = { format: string; sizeBytes: number; open: () => Readable };

/** What exportDisk hands its copy to: `compressed` says whether `stream` is gzip already. */
export type DiskSink = (copy: { format: string; stream: Readable; compressed: boolean }) => Promise<StoredDisk>;

/** A copy as the backup store holds it: the compressed file's size and sha256. */
export type StoredDisk = { format: string; sizeBytes: number; sha256: string };

/**
 * Programs a recipe may leave in the guest for the portal to run later (lib/recipes renders
 * them; a bare image has none):
 * - `quiesce freeze|thaw`: around the start of a backup's disk copy, so the copy is a point
 *   where the service has written out what it holds (the database: CHECKPOINT, then /data frozen);
 * - `set-password`: the service's password from the verifier on standard input (the database
 *   owner's, from its SCRAM-SHA-256 verifier: the password itself never enters the guest).
 */
export const GUEST_HOOKS = { quiesce: "/etc/portal/hooks/quiesce", "set-password": "/etc/portal/hooks/set-password" } as const;
export type GuestHook = keyof typeof GUEST_HOOKS;
/** A hook's argument and input line: no quote, space or other character a shell reads specially. */
export const GUEST_HOOK_INPUT = /^[A-Za-z0-9+/=$:._-]{0,300}$/;
/** How a hook ended: its exit code (127: the guest has no such hook) and what it printed. */
export type GuestHookResult = { code: number; output: string };

/** Where a backup's marker line lives in the guest (its /data disk is what a backup copies). */
export const BACKUP_MARKER_FILE = "/data/.portal-backup-marker";

/** A step failure whose message the customer may read (e.g. "host refused: disk full"). */
export class StepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StepError";
  }
}
