import type { HostFacts, HostKind } from "../db/schema";
import { expectSuccess } from "../drivers/transport/errors";
import type { Transport } from "../drivers/transport/types";

/**
 * Capability discovery ("Test connection"): what a host has, asked the way each kind's tools
 * report it. The parsers are pure (tested with the tools' output formats); discoverHost runs
 * the commands over the host's transport. Xen and Solaris hosts were not available here:
 * their parsers follow the documented output of xl(1), vgs(8), lvs(8), zoneadm(1M), zfs(1M),
 * psrinfo(1M) and prtconf(1M), and are tested against those formats and the host emulators.
 */
const GIB = 1024 ** 3;

/** `xl info`: "key : value" lines. */
export function parseXlInfo(text: string): { totalMemoryMb: number; freeMemoryMb: number; cpus: number; version: string | null } {
  const facts = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(\w+)\s*:\s*(.*)$/.exec(line.trim());
    if (m) facts.set(m[1], m[2].trim());
  }
  const num = (key: string) => {
    const n = Number(facts.get(key));
    if (!facts.has(key) || !Number.isFinite(n)) throw new Error(`xl info did not report ${key}`);
    return n;
  };
  const version = facts.get("xen_version") ?? (facts.has("xen_major") ? `${facts.get("xen_major")}.${facts.get("xen_minor")}` : null);
  return { totalMemoryMb: num("total_memory"), freeMemoryMb: num("free_memory"), cpus: num("nr_cpus"), version: version ? `Xen ${version}` : null };
}

/** `vgs --noheadings --units b --nosuffix --separator '|' -o vg_name,vg_size,vg_free`. */
export function parseVgs(text: string): { name: string; sizeBytes: number; freeBytes: number }[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [name, size, free] = l.split("|").map((f) => f.trim());
      if (!name || !Number.isFinite(Number(size)) || !Number.isFinite(Number(free))) throw new Error(`unexpected vgs line: ${l.slice(0, 120)}`);
      return { name, sizeBytes: Number(size), freeBytes: Number(free) };
    });
}

/** `lvs --noheadings --units b --nosuffix --separator '|' -o lv_name,vg_name,lv_size,origin`. */
export function parseLvs(text: string): { name: string; vg: string; sizeBytes: number; origin: string | null }[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [name, vg, size, origin] = l.split("|").map((f) => f.trim());
      if (!name || !vg || !Number.isFinite(Number(size))) throw new Error(`unexpected lvs line: ${l.slice(0, 120)}`);
      return { name, vg, sizeBytes: Number(size), origin: origin || null };
    });
}

/** `zoneadm list -cv`: a header, then ID NAME STATUS PATH BRAND IP ("-" as ID for zones not running). */
export function parseZoneadmList(text: string): { id: string; name: string; status: string; path: string; brand: string | null; ip: string | null }[] {
  const lines = text.split("\n").filter((l) => l.trim());
  if (lines.length === 0 || !/^\s*ID\s+NAME\s+STATUS/.test(lines[0])) throw new Error("zoneadm list -cv printed no header");
  return lines.slice(1).map((l) => {
    const [id, name, status, path, brand, ip] = l.trim().split(/\s+/);
    if (!name || !status || !path) throw new Error(`unexpected zoneadm line: ${l.slice(0, 120)}`);
    return { id, name, status, path, brand: brand ?? null, ip: ip ?? null };
  });
}

/** `zfs list -H -p -o name,used,avail,mountpoint`: tab-separated, sizes in bytes. */
export function parseZfsList(text: string): { name: string; usedBytes: number; availBytes: number; mountpoint: string }[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [name, used, avail, mountpoint] = l.split("\t");
      if (!name || !Number.isFinite(Number(used)) || !Number.isFinite(Number(avail))) throw new Error(`unexpected zfs list line: ${l.slice(0, 120)}`);
      return { name, usedBytes: Number(used), availBytes: Number(avail), mountpoint: (mountpoint ?? "").trim() };
    });
}

/** `psrinfo`: one line per processor, "0  on-line  since 11/20/2026 09:12:44". */
export function parsePsrinfo(text: string): number {
  const n = text.split("\n").filter((l) => /^\s*\d+\s+\S/.test(l)).length;
  if (n === 0) throw new Error("psrinfo listed no processors");
  return n;
}

/** `prtconf`: "Memory size: 16384 Megabytes" (or Gigabytes). */
export function parsePrtconfMemoryMb(text: string): number {
  const m = /Memory size:\s*(\d+)\s*(Megabytes|Gigabytes)/i.exec(text);
  if (!m) throw new Error('prtconf did not report "Memory size"');
  return Number(m[1]) * (/^g/i.test(m[2]) ? 1024 : 1);
}

/** /proc/meminfo: MemTotal and MemAvailable in kB. */
export function parseMeminfo(text: string): { totalMb: number; availableMb: number | null } {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, "m").exec(text);
    return m ? Number(m[1]) : null;
  };
  const total = kb("MemTotal");
  if (total === null) throw new Error("/proc/meminfo has no MemTotal");
  const available = kb("MemAvailable");
  return { totalMb: Math.floor(total / 1024), availableMb: available === null ? null : Math.floor(available / 1024) };
}

/** `df -Pk DIR`: POSIX output, 1024-byte blocks; the last line is the file system. */
export function parseDfPk(text: string): { sizeBytes: number; availBytes: number; mount: string } {
  const lines = text.split("\n").filter((l) => l.trim());
  const fields = lines[lines.length - 1]?.trim().split(/\s+/) ?? [];
  if (lines.length < 2 || fields.length < 6) throw new Error("df printed no file system");
  return { sizeBytes: Number(fields[1]) * 1024, availBytes: Number(fields[3]) * 1024, mount: fields[5] };
}

const gib = (bytes: number) => Math.floor(bytes / GIB);
const str = (v: unknown, fallback: string) => (typeof v === "string" && v ? v : fallback);

/** Runs a discovery command; a failure is a step error naming the tool, exit code and its last words. */
async function ask(transport: Transport, argv: string[]): Promise<string> {
  return expectSuccess(argv, await transport.run(argv, { timeoutMs: 30_000 }), transport.description).stdout;
}

async function discoverXen(t: Transport, config: Record<string, unknown>): Promise<HostFacts> {
  const info = parseXlInfo(await ask(t, ["xl", "info"]));
  const vgs = parseVgs(await ask(t, ["vgs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|", "-o", "vg_name,vg_size,vg_free"]));
  const lvs = parseLvs(await ask(t, ["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|", "-o", "lv_name,vg_name,lv_size,origin"]));
  const wanted = str(config.volumeGroup, "vg0");
  const vg = vgs.find((g) => g.name === wanted);
  if (!vg) throw new Error(`volume group ${wanted} (guest disks) not found on the host; it has: ${vgs.map((g) => g.name).join(", ") || "none"}`);
  const inVg = lvs.filter((l) => l.vg === vg.name);
  return {
    vcpus: info.cpus,
    memoryMb: info.totalMemoryMb,
    freeMemoryMb: info.freeMemoryMb,
    diskGb: gib(vg.sizeBytes),
    freeDiskGb: gib(vg.freeBytes),
    version: info.version,
    details: [
      `volume group ${vg.name}: ${gib(vg.sizeBytes)} GiB, ${gib(vg.freeBytes)} GiB free`,
      `${inVg.length} logical volume${inVg.length === 1 ? "" : "s"} in ${vg.name}${inVg.length ? `: ${inVg.slice(0, 8).map((l) => l.name).join(", ")}${inVg.length > 8 ? ", ..." : ""}` : ""}`,
    ],
  };
}

async function discoverZones(t: Transport, config: Record<string, unknown>): Promise<HostFacts> {
  const zones = parseZoneadmList(await ask(t, ["zoneadm", "list", "-cv"]));
  const datasets = parseZfsList(await ask(t, ["zfs", "list", "-H", "-p", "-o", "name,used,avail,mountpoint"]));
  const cpus = parsePsrinfo(await ask(t, ["psrinfo"]));
  const memoryMb = parsePrtconfMemoryMb(await ask(t, ["prtconf"]));
  const version = (await t.run(["uname", "-sr"], { timeoutMs: 30_000 })).stdout.trim() || null;
  const wanted = str(config.zonesDataset, "rpool/zones");
  // The zonepaths' parent may not exist yet on a fresh host: report its pool's space and say what to create.
  const ancestors = wanted.split("/").map((_, i, parts) => parts.slice(0, parts.length - i).join("/"));
  const ds = ancestors.map((name) => datasets.find((d) => d.name === name)).find(Boolean);
  if (!ds) throw new Error(`ZFS dataset ${wanted} (zonepaths) and its pool not found on the host; it has: ${datasets.slice(0, 8).map((d) => d.name).join(", ") || "none"}`);
  const missing = ds.name !== wanted ? [`dataset ${wanted} does not exist yet: create it before the first zone (zfs create -o mountpoint=${str(config.zonesRoot, "/zones")} ${wanted})`] : [];
  const others = zones.filter((z) => z.name !== "global");
  return {
    vcpus: cpus,
    memoryMb,
    freeMemoryMb: null,
    diskGb: gib(ds.usedBytes + ds.availBytes),
    freeDiskGb: gib(ds.availBytes),
    version,
    details: [
      ...missing,
      `dataset ${ds.name} at ${ds.mountpoint}: ${gib(ds.usedBytes)} GiB used, ${gib(ds.availBytes)} GiB available`,
      `${others.length} zone${others.length === 1 ? "" : "s"} besides the global zone${others.length ? `: ${others.slice(0, 8).map((z) => `${z.name} (${z.status})`).join(", ")}${others.length > 8 ? ", ..." : ""}` : ""}`,
    ],
  };
}

async function discoverQemu(t: Transport, config: Record<string, unknown>): Promise<HostFacts> {
  const version = (await ask(t, ["qemu-system-x86_64", "--version"])).split("\n")[0]?.trim() || null;
  const cpus = Number((await ask(t, ["nproc"])).trim());
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error("nproc did not print a processor count");
  const meminfo = await t.readFile("/proc/meminfo");
  if (!meminfo) throw new Error("the host has no /proc/meminfo");
  const memory = parseMeminfo(meminfo.toString());
  const dir = str(config.storageDir, "/");
  const df = parseDfPk(await ask(t, ["df", "-Pk", dir]));
  const kvm = await t.run(["test", "-w", "/dev/kvm"], { timeoutMs: 30_000 });
  const folders = await qemuFolders(t, config);
  return {
    vcpus: cpus,
    memoryMb: memory.totalMb,
    freeMemoryMb: memory.availableMb,
    diskGb: gib(df.sizeBytes),
    freeDiskGb: gib(df.availBytes),
    version,
    details: [
      `guest storage ${dir} on ${df.mount}: ${gib(df.sizeBytes)} GiB, ${gib(df.availBytes)} GiB free`,
      kvm.code === 0 ? "KVM acceleration available (/dev/kvm)" : "no usable /dev/kvm: guests run with software emulation (TCG)",
      ...folders,
    ],
  };
}

/**
 * What the QEMU driver will be allowed to do as the login user: root or not (bridges, taps and
 * CPU quotas need root; otherwise guests use QEMU's user-mode network), and whether it can
 * write the work folder and the image store's packed folder it is configured with.
 */
async function qemuFolders(t: Transport, config: Record<string, unknown>): Promise<string[]> {
  const id = await t.run(["id", "-u", "-n"], { timeoutMs: 30_000 });
  const uid = await t.run(["id", "-u"], { timeoutMs: 30_000 });
  const user = id.stdout.trim() || "?";
  const lines = [
    uid.stdout.trim() === "0"
      ? `login user ${user} is root: guests can get bridged networks and CPU quotas`
      : `login user ${user} is not root: guests run as ${user} on QEMU's user-mode network, without CPU quotas`,
  ];
  const writable = async (dir: string) => (await t.run(["test", "-d", dir, "-a", "-w", dir], { timeoutMs: 30_000 })).code === 0;
  const exists = async (dir: string) => (await t.run(["test", "-e", dir], { timeoutMs: 30_000 })).code === 0;
  if (typeof config.workDir === "string") {
    const dir = config.workDir;
    if (await writable(dir)) lines.push(`work folder ${dir}: writable by ${user}`);
    else lines.push(await exists(dir) ? `work folder ${dir} is not writable by ${user}: orders will fail until it is` : `work folder ${dir} does not exist yet: ${user} must be able to create it`);
  } else {
    lines.push("no work folder set (driver setting workDir): orders will fail until it is");
  }
  if (typeof config.imageStore === "string") {
    const packed = `${config.imageStore.replace(/\/+$/, "")}/packed`;
    if (!(await exists(config.imageStore))) lines.push(`image store ${config.imageStore} does not exist on the host: put the golden images there`);
    else if ((await exists(packed)) ? await writable(packed) : await writable(config.imageStore)) lines.push(`image store ${config.imageStore}: ${user} can pack images there`);
    else lines.push(`image store ${config.imageStore}: ${user} cannot write ${packed}; orders will fail at Resolve image until it can`);
  }
  return lines;
}

/** Asks the host what it has; throws with a readable message when a tool is missing or answers oddly. */
export async function discoverHost(kind: HostKind, transport: Transport, config: Record<string, unknown>): Promise<HostFacts> {
  switch (kind) {
    case "xen":
      return discoverXen(transport, config);
    case "zones":
      return discoverZones(transport, config);
    case "qemu":
      return discoverQemu(transport, config);
    default:
      throw new Error(`${kind} hosts are simulated: there is nothing to discover`);
  }
}
