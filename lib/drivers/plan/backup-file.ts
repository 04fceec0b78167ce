import type { DeploySpec } from "../types";
import { run, type PlanStep } from "./types";

/**
 * Where a Xen or zones host keeps a backup while the portal streams it back to its backup
 * store: an absolute path made of safe characters only (it is passed as an argument to the
 * host's shell pipelines, never spliced into them).
 */
export function assertBackupFile(file: string): void {
  if (!/^\/[A-Za-z0-9._/-]{1,200}\.gz$/.test(file) || file.split("/").includes("..")) throw new Error(`invalid backup file ${JSON.stringify(file.slice(0, 60))}`);
}

/** Removes a backup's transfer copy from the host (after it was streamed, or when a step failed). */
export function stagedFileCleanup(file: string): PlanStep {
  assertBackupFile(file);
  return { step: "backup-fetched", description: `Remove the transfer copy ${file}`, actions: [run(["rm", "-f", file], "The portal holds the copy now (or the step failed)")] };
}

/** The throwaway guest a verification boots: the environment's image and size, its own name, no network at all. */
export function verifyGuest(spec: DeploySpec, probe: string): DeploySpec {
  if (!/^[a-z0-9]{4,16}$/.test(probe)) throw new Error("invalid verification probe");
  return { ...spec, hostname: `verify-${probe}`, sshPublicKey: null, addresses: [] };
}

/** Where a host keeps a backup while it streams to or from the portal: its stage directory, named by the label. */
export function stagedBackupFile(stageDir: string, label: string): string {
  const file = `${stageDir}/portal-${label}.gz`;
  assertBackupFile(file);
  return file;
}
