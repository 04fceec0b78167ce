import type { HostKind } from "../db/schema";

/** What a driver's step receives: the order as the portal knows it, and a way to report. */
export type DeploySpec = {
  orderId: string;
  /** Guest name on the host (also its hostname): validated, safe for commands. */
  hostname: string;
  image: { slug: string; os: "linux" | "solaris"; source: "install-file" | "clone" | "copy"; rootType: "sparse" | "whole" | null; sizeMb: number };
  flavor: { vcpus: number; memoryMb: number; diskGb: number; cpuCap: number | null; memoryCapMb: number | null };
  host: { id: string; name: string; kind: HostKind; address: string; config: Record<string, unknown> };
  addresses: { network: string; purpose: "service" | "production"; ip: string; mac: string; cidr: string; gateway: string; bridge: string }[];
  sshPublicKey: string | null;
};

export type StepIo = {
  log: (line: string) => Promise<void>;
  signal: AbortSignal;
};

export type DriverCapabilities = { liveMigration: boolean; cpuCap: boolean; sparseRoot: boolean };

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
}

/** A step failure whose message the customer may read (e.g. "host refused: disk full"). */
export class StepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StepError";
  }
}
