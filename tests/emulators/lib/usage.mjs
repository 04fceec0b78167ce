/**
 * TEST EMULATORS, NOT THE REAL TOOLS: what the Solaris 10 global zone says of its use
 * (`prstat -Z`, `kstat -p`, `pagesize`) and the CPU time the emulated `xl list` shows. CPU time
 * grows with the clock: every running guest uses a fifth of its CPUs, the host a quarter of its
 * CPUs, so two readings a minute apart give 20 % and 25 %. Memory and disk come from the
 * guests' configuration.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { facts, fail, load, out, parseArgs } from "./state.mjs";

const now = () => Date.now() / 1000;

/** Seconds of CPU a running guest with `cpus` CPUs has used (a fifth of them busy since the epoch). */
export function emulatedCpuSeconds(cpus) {
  return Math.round(now() * 0.2 * cpus * 10) / 10;
}

function hms(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function size(mb) {
  return mb >= 1024 ? `${(mb / 1024).toFixed(0)}G` : `${mb}M`;
}

/** A zone's CPUs and memory: its caps, else one CPU and 512 MB. */
function zoneShape(zone) {
  const cfg = zone.cfg ?? {};
  const cpus = Number(cfg.cappedCpu?.ncpus ?? cfg["capped-cpu"]?.ncpus ?? 1) || 1;
  const rawMem = cfg.cappedMemory?.physical ?? cfg["capped-memory"]?.physical ?? "512m";
  const m = /^(\d+)([mg])?$/i.exec(String(rawMem));
  const memoryMb = m ? Number(m[1]) * (m[2]?.toLowerCase() === "g" ? 1024 : 1) : 512;
  return { cpus, memoryMb };
}

/** `prstat -Z -n NTOP,NZONES INTERVAL COUNT`: the process table, then one line per running zone. */
export function prstat(args) {
  const { opts } = parseArgs(args, ["-n"]);
  if (!opts.Z) fail("prstat: this test emulator answers only -Z", 2);
  const zones = Object.entries(load("zones/zones", {})).filter(([, z]) => z.state === "running");
  const lines = [
    "   PID USERNAME  SIZE   RSS STATE  PRI NICE      TIME  CPU PROCESS/NLWP",
    "   612 root     7840K 5120K sleep   59    0   0:00:03 0.0% nscd/27",
    "ZONEID    NPROC  SIZE   RSS MEMORY      TIME  CPU ZONE",
    `     0       41  180M  210M   1.3%   ${hms(now() * 0.05).padStart(9)} 0.4% global`,
  ];
  for (const [name, zone] of zones) {
    const { cpus, memoryMb } = zoneShape(zone);
    lines.push(`${String(zone.id ?? 1).padStart(6)}       23  ${size(Math.round(memoryMb * 0.4)).padStart(4)}  ${size(Math.round(memoryMb * 0.5)).padStart(4)}   3.1%   ${hms(emulatedCpuSeconds(cpus)).padStart(9)}  20% ${name}`);
  }
  lines.push(`Total: ${41 + zones.length * 23} processes, 180 lwps, load averages: 0.41, 0.38, 0.35`);
  out(lines.join("\n"));
}

/** `kstat -p module:instance:name:statistic ...` for the few statistics the portal reads. */
export function kstat(args) {
  const { rest } = parseArgs(args);
  const f = facts();
  const pages = Math.round((f.memoryMb * 1024 * 1024) / 4096);
  const busy = Math.round(now() * 0.25 * 1e9);
  const values = [];
  for (const spec of rest) {
    const [module, instance, name, stat] = spec.split(":");
    if (module === "cpu" && name === "sys" && /^cpu_nsec_(user|kernel)$/.test(stat)) {
      for (let i = 0; i < f.cpus; i++) values.push(`cpu:${i}:sys:${stat}\t${stat === "cpu_nsec_user" ? Math.round(busy * 0.6) : Math.round(busy * 0.4)}`);
    } else if (module === "unix" && name === "system_pages" && stat === "physmem") values.push(`unix:${instance || 0}:system_pages:physmem\t${pages}`);
    else if (module === "unix" && name === "system_pages" && stat === "freemem") values.push(`unix:${instance || 0}:system_pages:freemem\t${Math.round(pages * 0.55)}`);
  }
  if (!values.length) fail(`kstat: no matching statistics (test emulator)`, 1);
  out(values.join("\n"));
}

export function pagesize() {
  out("4096");
}

/** `zfs get -Hp -o value used[,available] DATASET`: bytes of the files under its mountpoint, and 100 GiB free. */
export function zfsSpace(props, dataset) {
  const bytes = (dir) => {
    if (!existsSync(dir)) return 0;
    const st = statSync(dir);
    if (!st.isDirectory()) return st.size;
    return readdirSync(dir).reduce((a, e) => a + bytes(path.join(dir, e)), 4096);
  };
  return props
    .split(",")
    .map((p) => (p === "used" ? bytes(dataset.mountpoint) : p === "available" ? 100 * 1024 ** 3 : "-"))
    .join("\n");
}
