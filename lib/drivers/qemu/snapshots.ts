import { StepError } from "../types";
import type { Transport } from "../transport/types";
import { withQmp } from "./qmp";
import { guestFiles } from "./args";
import { guestPid } from "./process";

/**
 * qcow2 internal snapshots of a guest's disk overlay. A running guest is snapshotted through
 * QMP with HMP `savevm` (disk and memory, the guest paused for the moment it takes) and
 * reverted with `loadvm` (it carries on from that moment); a stopped guest's disk goes
 * through `qemu-img snapshot`. Tags come from the portal (lib/lifecycle), never from user text.
 */

/** A snapshot in the overlay as `qemu-img info` lists it. */
export type DiskSnapshot = { name: string; vmStateBytes: number };

const tagPattern = /^[a-z0-9-]{1,40}$/;

function checkTag(tag: string): string {
  if (!tagPattern.test(tag)) throw new StepError(`invalid snapshot tag ${JSON.stringify(tag)}`);
  return tag;
}

/** The overlay's snapshots (readable while QEMU holds the disk: -U shares it). */
export async function listDiskSnapshots(t: Transport, disk: string): Promise<DiskSnapshot[]> {
  const r = await t.run(["qemu-img", "info", "-U", "--output=json", disk]);
  if (r.code !== 0) throw new StepError(`qemu-img info failed: ${r.stderr.trim().split("\n").pop() ?? `exit ${r.code}`}`);
  const info = JSON.parse(r.stdout) as { snapshots?: { name: string; "vm-state-size": number }[] };
  return (info.snapshots ?? []).map((s) => ({ name: s.name, vmStateBytes: s["vm-state-size"] }));
}

/** Runs an HMP command through QMP; HMP reports failure as text, not as a QMP error. */
async function hmp(t: Transport, dir: string, command: string, timeoutMs: number): Promise<void> {
  const out = await withQmp(t, guestFiles(dir).qmp, (q) => q.execute<string>("human-monitor-command", { "command-line": command }, timeoutMs));
  const text = (out ?? "").trim();
  if (/error|could not|not found|doesn't|does not/i.test(text)) throw new StepError(`QEMU refused \`${command}\`: ${text.split("\n").slice(-2).join(" | ")}`);
}

async function qemuImg(t: Transport, argv: string[], what: string, signal?: AbortSignal) {
  const r = await t.run(["qemu-img", ...argv], { timeoutMs: 300_000, signal });
  if (r.code !== 0) throw new StepError(`${what} failed: ${r.stderr.trim().split("\n").slice(-2).join(" | ") || `qemu-img exit ${r.code}`}`);
}

/** Takes snapshot `tag`; an existing one with that tag is the same snapshot (redelivered job). */
export async function takeSnapshot(t: Transport, dir: string, tag: string, log: (line: string) => Promise<void>, signal?: AbortSignal): Promise<DiskSnapshot & { running: boolean }> {
  const disk = guestFiles(dir).disk;
  checkTag(tag);
  const running = (await guestPid(t, dir)) !== null;
  const existing = (await listDiskSnapshots(t, disk)).find((s) => s.name === tag);
  if (existing) {
    await log(`snapshot ${tag} is already in ${disk}; nothing to do`);
    return { ...existing, running };
  }
  if (running) {
    await log(`savevm ${tag} (QMP human-monitor-command): the guest pauses while its memory and disk state are saved`);
    await hmp(t, dir, `savevm ${tag}`, 300_000);
  } else {
    await log(`qemu-img snapshot -c ${tag} ${disk}`);
    await qemuImg(t, ["snapshot", "-c", tag, disk], "qemu-img snapshot -c", signal);
  }
  const taken = (await listDiskSnapshots(t, disk)).find((s) => s.name === tag);
  if (!taken) throw new StepError(`snapshot ${tag} is not in ${disk} after taking it`);
  await log(`snapshot ${tag} taken${taken.vmStateBytes ? ` with ${(taken.vmStateBytes / 1024 ** 2).toFixed(0)} MiB of memory state` : " (disk only)"}`);
  return { ...taken, running };
}

/** `loadvm` on the running guest (the snapshot must hold memory); the disk alone otherwise, with the guest stopped. */
export async function loadSnapshotRunning(t: Transport, dir: string, tag: string, log: (line: string) => Promise<void>): Promise<void> {
  await log(`loadvm ${checkTag(tag)} (QMP human-monitor-command): the running guest goes back to the snapshot, memory and disk`);
  await hmp(t, dir, `loadvm ${tag}`, 300_000);
}

export async function applySnapshotStopped(t: Transport, dir: string, tag: string, log: (line: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const disk = guestFiles(dir).disk;
  await log(`qemu-img snapshot -a ${checkTag(tag)} ${disk}`);
  await qemuImg(t, ["snapshot", "-a", tag, disk], "qemu-img snapshot -a", signal);
}

/** Removes snapshot `tag` (delvm while the guest runs, qemu-img otherwise); gone already is fine. */
export async function removeSnapshot(t: Transport, dir: string, tag: string, log: (line: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const disk = guestFiles(dir).disk;
  checkTag(tag);
  if ((await t.run(["test", "-f", disk])).code !== 0 || !(await listDiskSnapshots(t, disk)).some((s) => s.name === tag)) {
    await log(`snapshot ${tag} is not in ${disk}; nothing to delete`);
    return;
  }
  if (await guestPid(t, dir)) {
    await log(`delvm ${tag} (QMP human-monitor-command)`);
    await hmp(t, dir, `delvm ${tag}`, 120_000);
  } else {
    await log(`qemu-img snapshot -d ${tag} ${disk}`);
    await qemuImg(t, ["snapshot", "-d", tag, disk], "qemu-img snapshot -d", signal);
  }
  await log(`snapshot ${tag} deleted`);
}
