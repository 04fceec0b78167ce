import path from "node:path";
import { LocalTransport } from "../transport/local";
import { LOCAL_HOST } from "../transport/address";
import type { Transport } from "../transport/types";
import { StepError, type DeploySpec, type MigrateIo, type MigrationResult } from "../types";
import { guestFiles } from "./args";
import { cgroupName, removeCgroup } from "./cgroup";
import type { GuestNetwork } from "./driver";
import { guestDir, stagingDir } from "./host";
import { linkGuestFolder, type MigratableDriver } from "./migrate";
import { hostKey, removeGuestTaps } from "./netns";
import { queryGuest } from "./process";

/**
 * A stopped QEMU guest moved to another QEMU host of this machine: nothing runs, so there is
 * no memory to copy. The target's guest folder gets hard links to the guest's disk, kernel,
 * initrd and glue (shared storage, as for a live migration), its NICs' taps in the target
 * host's namespace (same MACs and addresses) and network.json; then the source's taps, CPU
 * cgroup and folder go. The guest stays stopped; a start boots it on the target. A rerun after
 * the source folder went finds the guest on the target and is done.
 */
export async function moveStoppedGuest(driver: MigratableDriver, spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
  if (target.kind !== "qemu") throw new StepError(`${target.name} is a ${target.kind} host, not a QEMU host`);
  if (target.id === spec.host.id) throw new StepError(`${spec.hostname} is already on ${target.name}`);
  const remote = [spec.host, target].filter((h) => h.address !== LOCAL_HOST);
  if (remote.length) {
    throw new StepError(
      `moves of QEMU guests run between QEMU hosts of the portal's own machine (address local) in this version; ${remote.map((h) => `${h.name} is reached over SSH (${h.address})`).join(" and ")}, so ${spec.hostname} stays on ${spec.host.name}`,
    );
  }
  const t = new LocalTransport();
  try {
    return await moveLocal(t, driver, spec, target, io);
  } finally {
    await t.close();
  }
}

async function moveLocal(t: Transport, driver: MigratableDriver, spec: DeploySpec, target: DeploySpec["host"], io: MigrateIo): Promise<MigrationResult> {
  const started = Date.now();
  const src = guestFiles(guestDir(spec, spec.host));
  const dst = guestFiles(guestDir(spec, target));
  const exists = async (file: string) => (await t.run(["test", "-f", file])).code === 0;
  const [srcState, dstState] = await Promise.all([queryGuest(t, src.dir), queryGuest(t, dst.dir)]);
  if (srcState) throw new StepError(`${spec.hostname} runs on ${spec.host.name} (QEMU pid ${srcState.pid}); a cold move takes a stopped guest, a running one migrates live`);
  if (dstState) throw new StepError(`a QEMU for ${spec.hostname} runs on ${target.name} (pid ${dstState.pid}); stop it before moving the guest there`);
  if (!(await exists(src.disk))) {
    if (await exists(dst.disk)) {
      await io.log(`${spec.hostname}'s disk is already on ${target.name} and gone from ${spec.host.name}: the move had finished`);
      return { mode: "cold", totalMs: 0, downtimeMs: null, transferredBytes: null };
    }
    throw new StepError(`the disk of ${spec.hostname} is missing on ${spec.host.name}; it cannot be moved`);
  }
  const raw = await t.readFile(path.join(src.dir, "network.json"));
  const srcNetwork = raw ? (JSON.parse(raw.toString("utf8")) as GuestNetwork) : null;

  await io.progress(10, `linking the disk and boot files of ${spec.hostname} into ${target.name}`);
  let dstNetwork: GuestNetwork;
  try {
    const files = await linkGuestFolder(t, src.dir, dst.dir, io.signal);
    await io.log(`linked ${files.length} files into ${dst.dir} (shared storage)`);
    dstNetwork = await driver.prepareNetwork(t, spec, target, io);
    await t.writeFile(path.join(dst.dir, "network.json"), JSON.stringify(dstNetwork));
  } catch (err) {
    // Nothing ran on the target: its half-made folder goes, the guest stays where it was.
    await t.run(["rm", "-rf", dst.dir]).catch(() => undefined);
    const why = err instanceof Error ? err.message : String(err);
    throw new StepError(`moving ${spec.hostname} to ${target.name} failed: ${why}; it stays on ${spec.host.name}, stopped`);
  }

  // The guest's files are on the target now: clean-up on the source is logged, never undone.
  await io.progress(80, `${spec.hostname} is on ${target.name}; removing it from ${spec.host.name}`);
  const note = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      await io.log(`after the move: ${what} failed (${err instanceof Error ? err.message : err}); the guest is on ${target.name}`);
    }
  };
  if (srcNetwork?.mode === "bridge" && !(dstNetwork.mode === "bridge" && dstNetwork.netns === srcNetwork.netns)) {
    await note("removing the source's taps", () => removeGuestTaps(t, srcNetwork.netns, srcNetwork.taps));
  }
  await note("removing the source's cgroup", () => removeCgroup(t, cgroupName(hostKey(spec.host), spec.hostname)));
  await note("removing the source folder", () => t.run(["rm", "-rf", src.dir, stagingDir(spec)]));
  const totalMs = Date.now() - started;
  await io.log(`cold move done in ${totalMs} ms; ${spec.hostname} stays stopped on ${target.name} until it is started`);
  return { mode: "cold", totalMs, downtimeMs: null, transferredBytes: null };
}
