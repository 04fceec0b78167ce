import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Transport } from "../transport/types";
import { readMarkerOnConsole, writeMarkerOnConsole } from "../console-marker";
import { runHookOnConsole } from "../guest-hooks";
import { uncompressed } from "../disk-copy";
import { StepError, type DiskCopy, type DiskSink, type StepIo, type StoredDisk } from "../types";
import type { guestFiles } from "./args";
import { guestPid, stopGuest } from "./process";
import { withQmp } from "./qmp";

type GuestFiles = ReturnType<typeof guestFiles>;
type BlockInfo = { device: string; inserted?: { file: string } };
type BlockJob = { device: string; offset: number; len: number };

const JOB = "portal-backup";
const JOB_TIMEOUT_MS = 30 * 60_000;

async function must(t: Transport, argv: string[], what: string, signal?: AbortSignal) {
  const r = await t.run(argv, { timeoutMs: 600_000, signal });
  if (r.code !== 0) throw new StepError(`${what} failed: ${r.stderr.trim().split("\n").slice(-2).join(" | ") || `${argv[0]} exit ${r.code}`}`);
}

/**
 * The guest's disk as one standalone qcow2 (the overlay and its image flattened). A running
 * guest is copied live by a QMP `drive-backup` job (sync full): the copy is the disk as it was
 * when the job started, while the guest goes on writing (a crash-consistent point). A guest
 * whose recipe has a quiesce hook (a database) is frozen just before the job starts and thawed
 * as soon as it has started, so that point is a consistent one (see quiesce below). A stopped
 * guest is copied with `qemu-img convert`. The copy is streamed to `sink` (the backup store,
 * which compresses and checksums it on the way), alike over the local and the SSH transport.
 */
export async function exportGuestDisk(t: Transport, f: GuestFiles, io: StepIo, sink: DiskSink, opts: { marker?: string } = {}): Promise<StoredDisk & { marker: boolean }> {
  const copy = path.join(f.dir, "backup.qcow2.part");
  await t.run(["rm", "-f", copy]);
  let marker = false;
  try {
    if (await guestPid(t, f.dir)) {
      if (opts.marker) marker = await writeMarkerOnConsole(consoleOf(t, f), opts.marker, io);
      const frozen = await quiesce(t, f, "freeze", io);
      let thawed = !frozen;
      const thaw = async () => {
        if (thawed) return;
        thawed = true;
        await quiesce(t, f, "thaw", io);
      };
      try {
        await liveCopy(t, f, copy, io, thaw);
      } finally {
        await thaw();
      }
    } else {
      await io.log(`the guest is stopped: qemu-img convert -O qcow2 ${path.basename(f.disk)} (flattened)`);
      await must(t, ["qemu-img", "convert", "-O", "qcow2", f.disk, copy], "qemu-img convert", io.signal);
    }
    const stream = await t.readStream(copy).catch((e: Error) => {
      throw new StepError(`the disk copy could not be read: ${e.message}`);
    });
    const stored = await sink({ format: "qcow2", stream, compressed: false });
    await io.log(`disk copy: qcow2, ${(stored.sizeBytes / 1024 ** 2).toFixed(1)} MiB compressed`);
    return { ...stored, marker };
  } finally {
    await t.run(["rm", "-f", copy]);
  }
}

/**
 * The guest's quiesce hook (GUEST_HOOKS), when its recipe left one: `freeze` writes out what the
 * service holds and freezes /data (the database: CHECKPOINT, fsfreeze), `thaw` lets it go on.
 * True when the guest is frozen now. A guest without the hook, or whose console does not
 * answer, is copied as it runs (crash-consistent), and the log says so.
 */
async function quiesce(t: Transport, f: GuestFiles, what: "freeze" | "thaw", io: StepIo): Promise<boolean> {
  try {
    const r = await runHookOnConsole(consoleOf(t, f), "quiesce", { arg: what }, { ...io, log: async () => {} }, 90_000);
    if (r.code === 127) {
      if (what === "freeze") await io.log("the guest has no quiesce hook: the copy is crash-consistent (as if the power had gone at that moment)");
      return false;
    }
    await io.log(`quiesce ${what}: ${r.code === 0 ? "done" : `failed (exit ${r.code})`}${r.output ? `: ${r.output.split("\n").slice(-1)[0]!.slice(0, 200)}` : ""}`);
    if (r.code !== 0 && what === "freeze") await io.log("the copy is taken without quiescing: crash-consistent only");
    return r.code === 0;
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    await io.log(`quiesce ${what}: ${err.message}${what === "freeze" ? "; the copy is crash-consistent only" : "; the guest thaws /data by itself within 60 s"}`);
    return false;
  }
}

/** The QMP block job; `started` runs once the job exists (its point in time is fixed: the guest may write again). */
async function liveCopy(t: Transport, f: GuestFiles, copy: string, io: StepIo, jobStarted: () => Promise<void> = async () => {}) {
  await withQmp(t, f.qmp, async (qmp) => {
    const blocks = await qmp.execute<BlockInfo[]>("query-block");
    const drive = blocks.find((b) => b.inserted?.file === f.disk);
    if (!drive) throw new StepError(`QEMU has no drive for ${f.disk}`);
    await io.log(`QMP drive-backup of ${drive.device} (sync full) from this moment, while the guest runs`);
    await qmp.execute("drive-backup", { "job-id": JOB, device: drive.device, target: copy, sync: "full", format: "qcow2" });
    await jobStarted();
    const started = Date.now();
    let lastNote = 0;
    for (;;) {
      const done = qmp.events.find((e) => e.event === "BLOCK_JOB_COMPLETED" && e.data?.device === JOB);
      if (done) {
        if (done.data?.error) throw new StepError(`the backup block job failed: ${String(done.data.error)}`);
        return;
      }
      if (qmp.events.some((e) => e.event === "BLOCK_JOB_CANCELLED" && e.data?.device === JOB)) throw new StepError("the backup block job was cancelled");
      if (Date.now() - started > JOB_TIMEOUT_MS) throw new StepError("the backup block job did not finish in 30 minutes");
      const job = (await qmp.execute<BlockJob[]>("query-block-jobs")).find((j) => j.device === JOB);
      if (job && job.len > 0 && Date.now() - lastNote > 2000) {
        lastNote = Date.now();
        await io.log(`copied ${(job.offset / 1024 ** 2).toFixed(0)} of ${(job.len / 1024 ** 2).toFixed(0)} MiB`);
      }
      await sleep(250, undefined, { signal: io.signal });
    }
  });
}

/**
 * Puts a copy exportGuestDisk made in place of the guest's disk: the guest is stopped first
 * (the caller starts it again), the copy is written beside the disk, checked by qemu-img and
 * only then renamed over it, so a failed restore leaves the old disk.
 */
export async function replaceGuestDisk(t: Transport, f: GuestFiles, disk: DiskCopy, opts: { graceMs: number }, io: StepIo) {
  if (disk.format !== "qcow2") throw new StepError(`a ${disk.format} disk cannot be restored on a QEMU host`);
  const incoming = path.join(f.dir, "restore.qcow2.part");
  const how = await stopGuest(t, f.dir, { graceMs: opts.graceMs, signal: io.signal, log: io.log });
  await io.log(how === "not-running" ? "the guest is stopped" : `guest stopped for the restore (${how})`);
  const bytes = await t.writeStream(incoming, uncompressed(disk), { signal: io.signal });
  await must(t, ["qemu-img", "check", "-q", incoming], "checking the restored disk", io.signal);
  await must(t, ["mv", "-f", incoming, f.disk], "putting the restored disk in place", io.signal);
  await io.log(`disk ${path.basename(f.disk)} replaced by the backup (${(bytes / 1024 ** 2).toFixed(1)} MiB)`);
}

/** The guest's console shell (the second serial port) for the marker (../console-marker.ts) and the recipe's hooks (../guest-hooks.ts). */
export const consoleOf = (t: Transport, f: GuestFiles) => () => t.openStream(f.consoleSock);

/** The marker line a booted copy holds, or null when it has none. */
export function readMarker(t: Transport, f: GuestFiles): Promise<string | null> {
  return readMarkerOnConsole(consoleOf(t, f));
}
