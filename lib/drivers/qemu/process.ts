import { setTimeout as sleep } from "node:timers/promises";
import type { Transport } from "../transport/types";
import { guestFiles, qemuArgv, type QemuPlan } from "./args";
import { QmpClient, withQmp } from "./qmp";

export { guestFiles, qemuArgv, type QemuPlan };

/**
 * A guest's QEMU process on its host, found again from its folder: the pidfile names the
 * process, and /proc/<pid>/cmdline must mention the guest's folder (so a reused pid is not
 * taken for our guest). Everything goes through the Transport.
 */
export async function guestPid(t: Transport, dir: string): Promise<number | null> {
  const f = guestFiles(dir);
  const raw = await t.readFile(f.pidfile);
  const pid = raw ? Number(raw.toString("utf8").trim()) : NaN;
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const cmdline = await t.readFile(`/proc/${pid}/cmdline`).catch(() => null);
  if (!cmdline) return null;
  const args = cmdline.toString("utf8").split("\0");
  return args[0]?.includes("qemu-system") && args.some((a) => a.includes(f.pidfile)) ? pid : null;
}

/**
 * Every QEMU process on the host whose command line names this guest's folder (normally
 * zero or one; a test checks there are never two). Reads /proc through `ps`.
 */
export async function guestPids(t: Transport, dir: string): Promise<number[]> {
  const r = await t.run(["ps", "-ww", "-eo", "pid=,args="]);
  const f = guestFiles(dir);
  return r.stdout
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[2].includes("qemu-system") && m[2].includes(f.pidfile))
    .map((m) => Number(m[1]));
}

export type RunState = { pid: number; status: string; running: boolean } | null;

/** The guest's QMP status (`running`, `paused`, `shutdown`, `inmigrate`, ...) or null when no process. */
export async function queryGuest(t: Transport, dir: string): Promise<RunState> {
  const pid = await guestPid(t, dir);
  if (pid === null) return null;
  try {
    const r = await withQmp(t, guestFiles(dir).qmp, (q) => q.execute<{ status: string; running: boolean }>("query-status"));
    return { pid, status: r.status, running: r.running };
  } catch {
    // Alive but QMP does not answer (starting up, or busy): still a process we own.
    return { pid, status: "unknown", running: false };
  }
}

/**
 * Starts QEMU daemonized (it outlives the worker), inside the host's network namespace when
 * given (its taps live there). Returns the pid once QEMU has initialised: `-daemonize` makes
 * the launching process exit only after the devices, sockets and pidfile are set up, so a
 * bad tap or a missing file shows up here as an error with QEMU's own message.
 */
export async function launchGuest(t: Transport, plan: QemuPlan, opts: { netns: string | null; signal?: AbortSignal }): Promise<number> {
  const argv = qemuArgv(plan);
  const full = opts.netns ? ["ip", "netns", "exec", opts.netns, ...argv] : argv;
  const r = await t.run(full, { timeoutMs: 60_000, signal: opts.signal });
  if (r.code !== 0) {
    const why = r.stderr.trim().split("\n").filter((l) => !/Could not access KVM kernel module|failed to initialize kvm/i.test(l)).slice(-3).join(" | ");
    throw new Error(`qemu-system-x86_64 exited with ${r.code}: ${why || "no message"}`);
  }
  for (let i = 0; i < 50; i++) {
    const pid = await guestPid(t, plan.dir);
    if (pid !== null) return pid;
    await sleep(100);
  }
  throw new Error("QEMU started but wrote no pidfile");
}

/** Waits until the process is gone; true if it went within `timeoutMs`. */
export async function waitGone(t: Transport, dir: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await guestPid(t, dir)) === null) return true;
    await sleep(200, undefined, signal ? { signal } : undefined);
  }
  return (await guestPid(t, dir)) === null;
}

/**
 * Stops the guest: ACPI power button (`system_powerdown`) and up to `graceMs` for the guest
 * to power off, then QMP `quit`, then SIGKILL. Returns how it ended.
 */
export async function stopGuest(
  t: Transport,
  dir: string,
  opts: { graceMs: number; signal?: AbortSignal; log?: (line: string) => Promise<void> },
): Promise<"not-running" | "powered-off" | "quit" | "killed"> {
  const pid = await guestPid(t, dir);
  if (pid === null) return "not-running";
  const qmpPath = guestFiles(dir).qmp;
  let qmp: QmpClient | null = null;
  try {
    qmp = await QmpClient.connect(t, qmpPath);
    if (opts.graceMs > 0) {
      await opts.log?.(`asking the guest to power off (ACPI power button), waiting up to ${Math.round(opts.graceMs / 1000)} s`);
      await qmp.execute("system_powerdown").catch(() => {});
      if (await waitGone(t, dir, opts.graceMs, opts.signal)) return "powered-off";
      await opts.log?.("the guest did not power off in time; stopping QEMU (quit)");
    }
    await qmp.execute("quit").catch(() => {});
    if (await waitGone(t, dir, 10_000, opts.signal)) return "quit";
  } catch {
    // QMP unreachable: fall through to a kill.
  } finally {
    qmp?.close();
  }
  const still = await guestPid(t, dir);
  if (still === null) return "quit";
  await opts.log?.(`QEMU (pid ${still}) does not answer; killing it`);
  await t.run(["kill", "-KILL", String(still)]);
  await waitGone(t, dir, 10_000, opts.signal);
  return "killed";
}
