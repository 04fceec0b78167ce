import type { Transport } from "../transport/types";

/**
 * The CPU cap of a QEMU guest: `-smp` limits the vCPUs the guest sees; a cgroup CPU quota
 * on the QEMU process limits the host CPU time it may use, like a capped container
 * (`capped-cpu ncpus=2` on Solaris, `cap` on Xen). cgroup v2 (`cpu.max`) where
 * /sys/fs/cgroup is the unified hierarchy with the cpu controller, else cgroup v1
 * (`cpu.cfs_quota_us`); neither writable: no quota, and the step log says why.
 *
 * Group per guest: portal-qemu/<host key>-<guest> (host key from netns.ts hostKey: the host's
 * name and a hash of its work folder, so two portals on one machine never share a group).
 */
const PERIOD_US = 100_000;
const NAME = /^[a-z0-9][a-z0-9-]{0,80}$/;

export type CpuCapResult = { applied: true; how: string; cgroup: string } | { applied: false; why: string };

type Layout = { version: 2 | 1; root: string };

async function layout(t: Transport): Promise<Layout | { why: string }> {
  const v2 = await t.readFile("/sys/fs/cgroup/cgroup.controllers").catch(() => null);
  if (v2) {
    if (!v2.toString().split(/\s+/).includes("cpu")) return { why: "cgroup v2 is mounted but its cpu controller is not enabled" };
    return { version: 2, root: "/sys/fs/cgroup" };
  }
  const v1 = await t.readFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us").catch(() => null);
  if (v1) return { version: 1, root: "/sys/fs/cgroup/cpu" };
  return { why: "no cgroup cpu controller under /sys/fs/cgroup on this host" };
}

/**
 * Writes a cgroup control file in place (`tee FILE`, the value on stdin). Not
 * Transport.writeFile: over SSH that writes a temporary file and renames it, which cgroupfs
 * does not allow.
 */
async function writeControl(t: Transport, file: string, value: string): Promise<void> {
  const r = await t.run(["tee", file], { stdin: value, timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(r.stderr.trim() || `tee ${file} exit ${r.code}`);
}

export function cgroupName(hostKey: string, guest: string): string {
  const name = `${hostKey}-${guest}`;
  if (!NAME.test(name)) throw new Error(`invalid cgroup name ${JSON.stringify(name)}`);
  return name;
}

/** Puts `pid` (QEMU) into its own cgroup with a quota of `cpus` CPUs (fractions allowed). */
export async function capCpu(t: Transport, name: string, pid: number, cpus: number): Promise<CpuCapResult> {
  if (!(cpus > 0 && cpus <= 1024)) return { applied: false, why: `invalid CPU cap ${cpus}` };
  const l = await layout(t);
  if ("why" in l) return { applied: false, why: l.why };
  const parent = `${l.root}/portal-qemu`;
  const dir = `${parent}/${name}`;
  const quota = Math.round(cpus * PERIOD_US);
  try {
    const mk = await t.run(["mkdir", "-p", dir]);
    if (mk.code !== 0) return { applied: false, why: `cannot create ${dir}: ${mk.stderr.trim() || "permission denied"}` };
    if (l.version === 2) {
      // The cpu controller must be enabled for the children of every level above the group.
      await writeControl(t, `${l.root}/cgroup.subtree_control`, "+cpu");
      await writeControl(t, `${parent}/cgroup.subtree_control`, "+cpu");
      await writeControl(t, `${dir}/cpu.max`, `${quota} ${PERIOD_US}`);
    } else {
      await writeControl(t, `${dir}/cpu.cfs_period_us`, String(PERIOD_US));
      await writeControl(t, `${dir}/cpu.cfs_quota_us`, String(quota));
    }
    await writeControl(t, `${dir}/cgroup.procs`, String(pid));
    const how = l.version === 2 ? `cgroup v2 cpu.max "${quota} ${PERIOD_US}"` : `cgroup v1 cpu.cfs_quota_us=${quota} per cpu.cfs_period_us=${PERIOD_US}`;
    return { applied: true, how, cgroup: dir };
  } catch (err) {
    return { applied: false, why: `cannot write the quota in ${dir}: ${(err as Error).message}` };
  }
}

/** The quota currently set for the guest's group, in CPUs; null when there is none. */
export async function cpuCapOf(t: Transport, name: string): Promise<number | null> {
  const l = await layout(t);
  if ("why" in l) return null;
  const dir = `${l.root}/portal-qemu/${name}`;
  if (l.version === 2) {
    const raw = (await t.readFile(`${dir}/cpu.max`).catch(() => null))?.toString().trim();
    const m = raw ? /^(\d+)\s+(\d+)$/.exec(raw) : null;
    return m ? Number(m[1]) / Number(m[2]) : null;
  }
  const q = (await t.readFile(`${dir}/cpu.cfs_quota_us`).catch(() => null))?.toString().trim();
  const p = (await t.readFile(`${dir}/cpu.cfs_period_us`).catch(() => null))?.toString().trim();
  return q && p && Number(q) > 0 ? Number(q) / Number(p) : null;
}

/** Which group holds `pid` (its cpu line in /proc/<pid>/cgroup), for checks. */
export async function cgroupOfPid(t: Transport, pid: number): Promise<string | null> {
  const raw = (await t.readFile(`/proc/${pid}/cgroup`).catch(() => null))?.toString();
  if (!raw) return null;
  const lines = raw.split("\n").filter(Boolean).map((l) => l.split(":"));
  const v1 = lines.find((p) => (p[1] ?? "").split(",").includes("cpu"));
  const v2 = lines.find((p) => p[0] === "0" && p[1] === "");
  return (v1 ?? v2)?.slice(2).join(":") ?? null;
}

/** Removes the guest's group once QEMU is gone (an empty cgroup can be removed with rmdir). */
export async function removeCgroup(t: Transport, name: string): Promise<boolean> {
  const l = await layout(t);
  if ("why" in l) return false;
  const dir = `${l.root}/portal-qemu/${name}`;
  const r = await t.run(["rmdir", dir]);
  return r.code === 0;
}
