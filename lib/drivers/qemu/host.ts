import path from "node:path";
import { env, imageStoreDir } from "../../env";
import { LOCAL_HOST } from "../transport/address";
import type { ConnectHost } from "../plan/driver";
import { LocalTransport } from "../transport/local";
import { StepError, type DeploySpec } from "../types";
import { guestFiles } from "./args";
import type { QemuHostConfig } from "./config";

export type { QemuHostConfig };

/**
 * A QEMU host as the driver sees it: how to reach it (address "local" = this machine; any
 * other address through the host's SSH transport, given to the driver as a ConnectHost) and
 * where its guests live:
 *
 *   <workDir>/guests/<hostname>/   disk.qcow2 (overlay), image/ (unpacked image), initrd.gz,
 *                                  glue.cpio.gz, qmp.sock, serial.sock, serial.log, qemu.pid, plan.json
 *   <workDir>/staging/<pack key>/  mk_image's resolved image before packing
 *
 * Host config (hosts.config, JSON, schema in ./config.ts): workDir (absolute, required),
 * imageStore (default the portal's IMAGE_STORE_DIR), network ("bridge" | "user"),
 * readyTimeoutMs, stopGraceMs, accel.
 */

type Host = DeploySpec["host"];

const SAFE_DIR = /^\/[A-Za-z0-9._/+-]+$/;
/** Linux limits a unix socket path to 108 bytes (sun_path, with its NUL). */
const MAX_SOCKET_PATH = 107;

export function hostConfig(host: Host): QemuHostConfig {
  return host.config as QemuHostConfig;
}

/**
 * Reaches hosts of this machine only (address "local"). The portal's driver registry
 * (lib/drivers/index.ts) gives the driver the database-backed ConnectHost instead, which also
 * reaches SSH hosts; this one is for code that drives local hosts without a database.
 */
export const connectLocalOnly: ConnectHost = async (host) => {
  if (host.address === LOCAL_HOST) return new LocalTransport();
  throw new StepError(`host ${host.name} (${host.address}) is reached over SSH; this QEMU driver was made without access to the hosts' SSH settings`);
};

export function workDir(host: Host): string {
  const dir = hostConfig(host).workDir;
  if (!dir || !SAFE_DIR.test(dir) || dir.split("/").includes("..")) {
    throw new StepError(`host ${host.name} has no valid workDir in its config (an absolute path without spaces or commas)`);
  }
  return dir;
}

export function imageStore(host: Host): string {
  return hostConfig(host).imageStore ?? imageStoreDir;
}

/** Pack key of an environment's image in the store: hostname plus the order's first 8 hex digits. */
export function packKey(spec: DeploySpec): string {
  return `${spec.hostname}-${spec.orderId.replace(/-/g, "").slice(0, 8)}`;
}

export function guestDir(spec: DeploySpec, host: Host = spec.host): string {
  const dir = path.join(workDir(host), "guests", spec.hostname);
  const longest = guestFiles(dir).serialSock;
  if (Buffer.byteLength(longest) > MAX_SOCKET_PATH) {
    throw new StepError(`the guest folder ${dir} is too deep for QEMU's unix sockets (${Buffer.byteLength(longest)} of ${MAX_SOCKET_PATH} bytes); give host ${host.name} a shorter workDir`);
  }
  return dir;
}

export function stagingDir(spec: DeploySpec): string {
  return path.join(workDir(spec.host), "staging", packKey(spec));
}

export function readyTimeoutMs(host: Host): number {
  return hostConfig(host).readyTimeoutMs ?? env.QEMU_READY_TIMEOUT_MS;
}

export function stopGraceMs(host: Host): number {
  return hostConfig(host).stopGraceMs ?? env.QEMU_STOP_GRACE_MS;
}
