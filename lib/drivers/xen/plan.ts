/**
 * Command plans for Xen (xl toolstack, guest disks on LVM), built from
 * shared/reference/hypervisors.md sections 1 and 4, tested against reviewed golden files and
 * the host emulators in tests/emulators/. Provision, halt, start and teardown also run on a
 * real Xen 4.17 host (tests/integration/xen-real.test.ts); the snapshot step has not.
 */
import { assertSafeSpec, prefixOf } from "../plan/validate";
import { run, write, type Plan, type PlanStep, type RunAction } from "../plan/types";
import type { DeploySpec } from "../types";
import type { XenHostConfig } from "./config";
import { xenGuestExtras, xenRecipeCheck } from "../plan/guest-extras";

/** What the glue step adds for the order besides the owner's key, in words. */
function glueExtras(spec: DeploySpec): string {
  const parts = [
    spec.accounts?.length ? `${spec.accounts.length} account${spec.accounts.length === 1 ? "" : "s"}` : "",
    spec.settings && (Object.keys(spec.settings.sysctl).length || Object.keys(spec.settings.env).length) ? "system settings" : "",
    spec.recipePlan ? `the recipe ${spec.recipePlan.slug} ${spec.recipePlan.version}` : "",
  ].filter(Boolean);
  return parts.length ? `; ${parts.join(", ")}` : "";
}

const GiB = 1024 ** 3;

export function xenNames(spec: DeploySpec, cfg: XenHostConfig) {
  const vg = cfg.volumeGroup;
  const lv = spec.hostname;
  return {
    vg,
    lv,
    lvPath: `${vg}/${lv}`,
    device: `/dev/${vg}/${lv}`,
    golden: `${cfg.goldenPrefix}${spec.image.slug}`,
    goldenDevice: `/dev/${vg}/${cfg.goldenPrefix}${spec.image.slug}`,
    configFile: `${cfg.configDir}/${spec.hostname}.cfg`,
    mountPoint: `${cfg.mountDir}/${spec.hostname}`,
    installFile: `${cfg.imageDir}/${spec.image.slug}.tar.gz`,
  };
}

/** Credit scheduler weight and cap from the flavor: weight 256 per vCPU, cap in % of one CPU. */
export function xenCpu(spec: DeploySpec) {
  return { weight: 256 * spec.flavor.vcpus, cap: spec.flavor.cpuCap ? Math.round(spec.flavor.cpuCap * 100) : 0 };
}

export const lvsArgs = (what: string, lvPath: string) => ["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|", "-o", what, lvPath];

/** The address the host probes and the guest is known by: the service network's, else the first. */
export function primaryAddress(spec: DeploySpec) {
  return spec.addresses.find((a) => a.purpose === "service") ?? spec.addresses[0];
}

/** xl.cfg(5) for the guest: one vif per network with the MAC rule's address and the network's bridge. */
export function xenDomainConfig(spec: DeploySpec, cfg: XenHostConfig): string {
  const n = xenNames(spec, cfg);
  const cpu = xenCpu(spec);
  const vifs = spec.addresses.map((a) => `'mac=${a.mac},bridge=${a.bridge}'`);
  return [
    `# ${spec.hostname}: written by the environment portal for order ${spec.orderId}`,
    `name    = "${spec.hostname}"`,
    `type    = "${cfg.guestType}"`,
    `memory  = ${spec.flavor.memoryMb}`,
    `maxmem  = ${spec.flavor.memoryMb}`,
    `vcpus   = ${spec.flavor.vcpus}`,
    `cpu_weight = ${cpu.weight}`,
    `cap     = ${cpu.cap}`,
    `kernel  = "${cfg.kernel}"`,
    `ramdisk = "${cfg.ramdisk}"`,
    `extra   = "console=hvc0 root=/dev/xvda ro"`,
    `disk    = [ 'format=raw, vdev=xvda, access=rw, target=${n.device}' ]`,
    `vif     = [ ${vifs.join(", ")} ]`,
    `on_poweroff = "destroy"`,
    `on_reboot   = "restart"`,
    `on_crash    = "restart"`,
    "",
  ].join("\n");
}

/**
 * Debian's /etc/network/interfaces: one static NIC per network; the default route via the
 * order's network; service IPs as /32 on their network's NIC (`up` lines), so a boot keeps them.
 */
export function interfacesFile(spec: DeploySpec): string {
  const lines = ["# written by the environment portal", "auto lo", "iface lo inet loopback", ""];
  const routed = spec.addresses.find((a) => a.purpose === "production") ?? spec.addresses[0];
  spec.addresses.forEach((a, i) => {
    lines.push(`# ${a.network} (${a.cidr}), mac ${a.mac}`, `auto eth${i}`, `iface eth${i} inet static`, `    address ${a.ip}/${prefixOf(a.cidr)}`);
    if (a === routed) lines.push(`    gateway ${a.gateway}`);
    for (const s of (spec.serviceIps ?? []).filter((s) => s.network === a.network)) lines.push(`    up ip addr add ${s.ip}/32 dev eth${i}`);
    lines.push("");
  });
  return lines.join("\n");
}

function hostsFile(spec: DeploySpec): string {
  const ip = primaryAddress(spec)?.ip;
  return ["127.0.0.1\tlocalhost", ...(ip ? [`${ip}\t${spec.hostname}`] : []), ""].join("\n");
}

const alreadyMounted = { when: /already mounted/, advice: "" };
const notMounted = { when: /not mounted|no mount point|mountpoint not found/, advice: "" };
export const noDomain = { when: /invalid domain identifier/, advice: "" };
/**
 * `xl destroy` right after `xl shutdown -w`: on a real dom0 the shut-down domain is still listed
 * until xl's own watcher (on_poweroff = "destroy") has removed it, and a destroy racing that
 * fails on its half-removed devices ("unable to read script from /local/domain/0/backend/vif/...").
 */
const goneOrGoing = { when: /invalid domain identifier|unable to read script from \/local\/domain\/0\/backend\//, advice: "" };

/** Polls `xl list` until the domain is no longer listed (anchored at the start: no m flag). */
function domainGone(hostname: string): RunAction {
  return run(["xl", "list"], `Domain ${hostname} gone from xl list`, {
    until: { ready: new RegExp(`^(?![\\s\\S]*\\n${hostname}\\s)`), what: `domain ${hostname} to be gone`, attempts: 60, intervalMs: 2000 },
  });
}

function mountActions(n: ReturnType<typeof xenNames>): RunAction[] {
  return [
    run(["mkdir", "-p", n.mountPoint], "Mount point for the guest's disk"),
    run(["mount", n.device, n.mountPoint], "Mount the guest's filesystem on the host", { alreadyDone: alreadyMounted }),
  ];
}

function umountAction(n: ReturnType<typeof xenNames>): RunAction {
  return run(["umount", n.mountPoint], "Unmount the guest's filesystem", { alreadyDone: notMounted });
}

export function xenProvisionPlan(spec: DeploySpec, cfg: XenHostConfig): Plan {
  assertSafeSpec(spec);
  const n = xenNames(spec, cfg);
  const cpu = xenCpu(spec);
  const fromGolden = spec.image.source !== "install-file";
  const sizeBytes = spec.flavor.diskGb * GiB;

  const lvExists = {
    when: /already exists in volume group/,
    advice: `Remove the leftover volume (lvremove -f ${n.lvPath}) if no guest uses it, or order under another name.`,
  };

  const steps: PlanStep[] = [
    {
      step: "resolve",
      description: fromGolden ? `Check that the golden volume ${n.vg}/${n.golden} is on the host` : `Check that the install file ${n.installFile} is on the host`,
      actions: [
        fromGolden
          ? run(lvsArgs("lv_name,vg_name,lv_size,origin", `${n.vg}/${n.golden}`), `Golden image ${spec.image.slug} as an LVM volume`, {
              hint: `The golden image is missing on this host: create ${n.vg}/${n.golden} from the image's build, or drain the host`,
            })
          : run(["test", "-f", n.installFile], `Install file of ${spec.image.slug}: a root filesystem archive`, {
              hint: `The install file is missing on this host: copy ${spec.image.slug}.tar.gz to ${cfg.imageDir}`,
            }),
      ],
    },
    {
      step: "pack",
      description: fromGolden
        ? `Nothing to pack: the golden volume is used in place (${spec.image.source === "clone" ? "copy-on-write snapshot" : "block copy"})`
        : "Nothing to pack: the install file is unpacked onto the new volume",
      actions: [],
    },
    {
      step: "storage",
      description:
        spec.image.source === "clone"
          ? `Copy-on-write snapshot ${n.lvPath} of ${n.golden}, ${spec.flavor.diskGb} GiB of room for changes`
          : `New ${spec.flavor.diskGb} GiB volume ${n.lvPath}`,
      actions:
        spec.image.source === "clone"
          ? [
              run(["lvcreate", "-s", "-L", `${spec.flavor.diskGb}G`, "-n", n.lv, `${n.vg}/${n.golden}`], "Snapshot of the golden volume (sized from the flavor's disk so it cannot fill up)", {
                alreadyDone: {
                  ...lvExists,
                  verify: {
                    argv: lvsArgs("lv_name,origin", n.lvPath),
                    problem: (out, code) => (code !== 0 ? "it cannot be listed" : out.trim().split("|")[1]?.trim() === n.golden ? null : `it is not a snapshot of ${n.golden} (lvs: ${out.trim()})`),
                  },
                },
              }),
            ]
          : [
              run(["lvcreate", "-L", `${spec.flavor.diskGb}G`, "-n", n.lv, n.vg], "Empty volume for the guest's disk", {
                alreadyDone: {
                  ...lvExists,
                  verify: {
                    argv: lvsArgs("lv_name,lv_size,origin", n.lvPath),
                    problem: (out, code) => {
                      if (code !== 0) return "it cannot be listed";
                      const [, size, origin] = out.trim().split("|").map((s) => s.trim());
                      if (origin) return `it is a snapshot of ${origin}`;
                      return Number(size) === sizeBytes ? null : `its size is ${size} bytes, the order needs ${sizeBytes}`;
                    },
                  },
                },
              }),
              ...(spec.image.source === "install-file" ? [run(["mkfs.ext4", "-q", "-F", "-L", "root", n.device], "ext4 filesystem on the whole volume (root=/dev/xvda)")] : []),
            ],
    },
    {
      step: "unpack",
      description:
        spec.image.source === "clone"
          ? "Nothing to unpack: the snapshot already holds the golden image"
          : spec.image.source === "copy"
            ? `Full block copy of ${n.golden} onto ${n.lv}`
            : `Unpack ${spec.image.slug}.tar.gz onto ${n.lv}`,
      actions:
        spec.image.source === "clone"
          ? []
          : spec.image.source === "copy"
            ? [
                run(["dd", `if=${n.goldenDevice}`, `of=${n.device}`, "bs=4M", "conv=sparse"], "Copy the golden disk block by block (sparse: zero blocks are skipped)", { timeoutMs: 60 * 60_000 }),
                run(["e2fsck", "-f", "-p", n.device], "Check the copied filesystem (resize2fs requires it)", { timeoutMs: 30 * 60_000 }),
                run(["resize2fs", n.device], `Grow the filesystem to the volume's ${spec.flavor.diskGb} GiB`, { timeoutMs: 30 * 60_000 }),
              ]
            : [
                ...mountActions(n),
                run(["tar", "-xzpf", n.installFile, "-C", n.mountPoint], "Unpack the root filesystem, keeping owners and modes", { timeoutMs: 30 * 60_000 }),
                umountAction(n),
              ],
    },
    {
      step: "networking",
      description: `Domain configuration with ${spec.addresses.length} network interface${spec.addresses.length === 1 ? "" : "s"} (MAC from the IP, bridge per network)`,
      actions: [write(n.configFile, xenDomainConfig(spec, cfg), 0o644, "xl domain configuration: memory, vCPUs, CPU weight and cap, disk, one vif per network")],
    },
    {
      step: "glue",
      description: `Write hostname, network settings and the owner's SSH key into the guest's filesystem${glueExtras(spec)}`,
      actions: [
        ...mountActions(n),
        write(`${n.mountPoint}/etc/hostname`, `${spec.hostname}\n`, 0o644, "Hostname"),
        write(`${n.mountPoint}/etc/hosts`, hostsFile(spec), 0o644, "Hosts file with the guest's own name"),
        write(`${n.mountPoint}/etc/network/interfaces`, interfacesFile(spec), 0o644, "Static addresses, one interface per network"),
        ...(spec.sshPublicKey
          ? [
              run(["install", "-d", "-m", "700", `${n.mountPoint}/root/.ssh`], "root's .ssh directory, private"),
              write(`${n.mountPoint}/root/.ssh/authorized_keys`, `${spec.sshPublicKey}\n`, 0o600, "The owner's SSH public key for root"),
            ]
          : []),
        // The order's accounts, settings and recipe (lib/drivers/plan/guest-extras.ts), on the mounted root.
        ...xenGuestExtras(spec, n.mountPoint),
        umountAction(n),
      ],
    },
    {
      step: "boot",
      // CPU weight and cap come from the domain config (cpu_weight, cap), which both the credit
      // and the credit2 scheduler honour. A separate `xl sched-credit` fails on Xen 4.17's
      // default scheduler, credit2 ("Getting domain sched credit: Invalid argument").
      description: `Start the domain with its CPU weight ${cpu.weight} and cap ${cpu.cap === 0 ? "none" : `${cpu.cap}%`} (from its configuration)`,
      actions: [
        run(["xl", "create", n.configFile], "Build and start the domain", {
          alreadyDone: {
            when: /already exists/,
            verify: { argv: ["xl", "list", spec.hostname], problem: (_out, code) => (code === 0 ? null : "it is not listed by xl list") },
            advice: `Destroy the other domain (xl destroy ${spec.hostname}) if it is a leftover.`,
          },
        }),
      ],
    },
    {
      step: "wait_ready",
      description: "Wait until the domain runs and the guest answers on SSH",
      actions: [
        run(["xl", "list", spec.hostname], `Domain ${spec.hostname} running or blocked (idle)`, {
          until: { ready: new RegExp(`^${spec.hostname}\\s+\\d+\\s+\\d+\\s+\\d+\\s+[-rbpsc]*[rb]`, "m"), what: `domain ${spec.hostname} to run`, attempts: 60, intervalMs: 2000 },
        }),
        ...(primaryAddress(spec)
          ? [
              run(["nc", "-z", "-w", "5", primaryAddress(spec)!.ip, "22"], `Guest answers on ${primaryAddress(spec)!.ip} port 22`, {
                until: { ready: /(?:)/, what: `${spec.hostname} to answer on SSH`, attempts: 90, intervalMs: 2000 },
              }),
            ]
          : []),
        ...xenRecipeCheck(spec),
      ],
    },
  ];
  return { kind: "xen", host: spec.host.name, guest: spec.hostname, steps };
}

/** Orderly shutdown, forced with `xl destroy` when the guest has not powered off within the host's timeout. */
export function xenHaltStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const seconds = cfg.shutdownTimeoutSec;
  return {
    step: "halt",
    description: `Shut ${spec.hostname} down cleanly; destroy it if it is still there after ${seconds} s`,
    actions: [
      run(["timeout", String(seconds), "xl", "shutdown", "-w", spec.hostname], "Orderly shutdown (the guest's own poweroff), waiting until it is gone", {
        alreadyDone: noDomain,
        okCodes: { 124: `${spec.hostname} did not power off within ${seconds} s; forcing it off` },
        timeoutMs: (seconds + 30) * 1000,
      }),
      run(["xl", "destroy", spec.hostname], "Force it off if it is still there", { alreadyDone: { ...goneOrGoing, note: `${spec.hostname} is off (or being removed by xl after its shutdown)` } }),
      domainGone(spec.hostname),
    ],
  };
}

/**
 * Start again from the domain config, then wait as a delivery does: on a real dom0 `xl create`
 * returns once the domain is built, well before the guest's SSH answers.
 */
export function xenStartStep(spec: DeploySpec, cfg: XenHostConfig): PlanStep {
  const plan = xenProvisionPlan(spec, cfg);
  const boot = plan.steps.find((s) => s.step === "boot")!;
  const ready = plan.steps.find((s) => s.step === "wait_ready")!;
  return { step: "start", description: `Start ${spec.hostname} again from its configuration and wait until it answers on SSH`, actions: [...boot.actions, ...ready.actions] };
}

export function xenTeardownPlan(spec: DeploySpec, cfg: XenHostConfig): Plan {
  assertSafeSpec(spec);
  const n = xenNames(spec, cfg);
  return {
    kind: "xen",
    host: spec.host.name,
    guest: spec.hostname,
    steps: [
      xenHaltStep(spec, cfg),
      {
        step: "destroy",
        description: `Remove domain ${spec.hostname}, its volume ${n.lvPath} and its configuration`,
        actions: [
          run(["xl", "destroy", spec.hostname], "Hard stop, in case the shutdown did not finish", { alreadyDone: noDomain }),
          umountAction(n),
          run(["lvremove", "-f", n.lvPath], "Remove the guest's disk", { alreadyDone: { when: /Failed to find logical volume/, advice: "" } }),
          run(["rm", "-f", n.configFile], "Remove the domain configuration"),
        ],
      },
    ],
  };
}

/** A point-in-time copy of the guest's disk for a backup: an LVM snapshot next to it. */
export function xenSnapshotStep(spec: DeploySpec, cfg: XenHostConfig, label: string): PlanStep {
  assertSafeSpec(spec);
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(label)) throw new Error(`invalid snapshot label ${JSON.stringify(label.slice(0, 40))}`);
  const n = xenNames(spec, cfg);
  return {
    step: "snapshot",
    description: `Snapshot ${n.lvPath} as ${n.lv}-${label} for a backup`,
    actions: [
      run(["lvcreate", "-s", "-L", `${spec.flavor.diskGb}G`, "-n", `${n.lv}-${label}`, n.lvPath], "Copy-on-write snapshot of the running guest's disk", {
        alreadyDone: { when: /already exists in volume group/, advice: "" },
      }),
    ],
  };
}
