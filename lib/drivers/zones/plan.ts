/**
 * Command plans for Solaris 10 zones on ZFS, built from shared/reference/hypervisors.md
 * sections 2 and 4 (zonecfg(1M), zoneadm(1M), zlogin(1), sysidcfg(4), zfs(1M)). NOT run on a
 * real Solaris host: tested against reviewed golden files and the host emulators in
 * tests/emulators/.
 *
 * /data: each zone has a ZFS dataset of its own, `<zonepath dataset>/data` (mountpoint=legacy,
 * quota the flavor's disk), given to the zone with zonecfg `add fs` (type=zfs, dir=/data). `add
 * fs` rather than `add dataset`: the global zone keeps the dataset (its quota, snapshots and
 * sends stay the portal's, and a root in the zone cannot lift the quota or destroy it), and the
 * zone sees a plain filesystem at /data, which is what a Solaris 10 admin hands a zone that
 * needs space, not administration. A child of the zonepath dataset, so `zfs snapshot -r`,
 * `zfs send -R` and `zfs destroy -r` take it with the zonepath. A reinstall that keeps the data
 * renames it aside (`<zones dataset>/<zone>-kept-data`) before the zone is uninstalled and
 * renames it back under the new zonepath before the first boot.
 */
import { randomInt } from "node:crypto";
import { assertSafeSpec, netmaskOf, prefixOf } from "../plan/validate";
import { run, write, type Plan, type PlanStep } from "../plan/types";
import type { DeploySpec } from "../types";
import type { ZonesHostConfig } from "./config";
import { zoneGuestCommands, zoneGuestFiles } from "../plan/guest-extras";

export function zoneNames(spec: DeploySpec, cfg: ZonesHostConfig) {
  return {
    zone: spec.hostname,
    zonepath: `${cfg.zonesRoot}/${spec.hostname}`,
    dataset: `${cfg.zonesDataset}/${spec.hostname}`,
    /** The zone's /data (a child of the zonepath dataset, mounted by the zone through `add fs`). */
    data: `${cfg.zonesDataset}/${spec.hostname}/data`,
    /** Where a reinstall that keeps the data leaves /data while the zone root is rebuilt. */
    kept: `${cfg.zonesDataset}/${spec.hostname}-kept-data`,
    golden: `${cfg.goldenPrefix}${spec.image.slug}`,
    cfgFile: `${cfg.stageDir}/${spec.hostname}.zonecfg`,
  };
}

/** The global zone's device for an address's network (host setting, else the network's own device name). */
export function physicalOf(a: DeploySpec["addresses"][number], cfg: ZonesHostConfig): string {
  return cfg.physicalByNetwork?.[a.network] ?? a.bridge;
}

/** FSS shares: 10 per vCPU of the flavor, so bigger sizes win proportionally under contention. */
export function zoneCpuShares(spec: DeploySpec): number {
  return 10 * spec.flavor.vcpus;
}

/** zonecfg size: whole GiB as "4g", else MiB as "1536m". */
export function zoneSize(mb: number): string {
  return mb % 1024 === 0 ? `${mb / 1024}g` : `${mb}m`;
}

/** The zonecfg command file: sparse (default template) or whole root (create -b), nets, caps, FSS. */
export function zonecfgFile(spec: DeploySpec, cfg: ZonesHostConfig): string {
  const n = zoneNames(spec, cfg);
  const routed = spec.addresses.find((a) => a.purpose === "production") ?? spec.addresses[0];
  const lines = [
    spec.image.rootType === "whole" ? "create -b" : "create",
    `set zonepath=${n.zonepath}`,
    "set autoboot=true",
    "set ip-type=shared",
    "set scheduling-class=FSS",
    `set cpu-shares=${zoneCpuShares(spec)}`,
  ];
  for (const a of spec.addresses) {
    lines.push("add net", `set address=${a.ip}/${prefixOf(a.cidr)}`, `set physical=${physicalOf(a, cfg)}`);
    if (a === routed) lines.push(`set defrouter=${a.gateway}`);
    lines.push("end");
  }
  // Service IPs pointing at the zone: /32 nets on its network's NIC (a rebuild keeps them).
  for (const sip of spec.serviceIps ?? []) {
    const a = spec.addresses.find((x) => x.network === sip.network);
    if (a) lines.push("add net", `set address=${sip.ip}/32`, `set physical=${physicalOf(a, cfg)}`, "end");
  }
  lines.push("add fs", "set dir=/data", `set special=${n.data}`, "set type=zfs", "end");
  if (spec.flavor.cpuCap) lines.push("add capped-cpu", `set ncpus=${spec.flavor.cpuCap}`, "end");
  if (spec.flavor.memoryCapMb) {
    const size = zoneSize(spec.flavor.memoryCapMb);
    lines.push("add capped-memory", `set physical=${size}`, `set swap=${size}`, "end");
  }
  lines.push("verify", "commit", "");
  return lines.join("\n");
}

/** sysidcfg(4) for an unattended first boot; keys checked here because one typo means console prompts. */
export function sysidcfgFile(spec: DeploySpec, cfg: ZonesHostConfig, rootHash: string): string {
  const nameService = cfg.dns ? `DNS {domain_name=${cfg.dns.domain} name_server=${cfg.dns.servers.join(",")}}` : "NONE";
  return [
    "system_locale=C",
    "terminal=xterm",
    `network_interface=primary {hostname=${spec.hostname}}`,
    "security_policy=NONE",
    `name_service=${nameService}`,
    "nfs4_domain=dynamic",
    `timezone=${cfg.timezone}`,
    `root_password=${rootHash}`,
    "",
  ].join("\n");
}

/** A traditional crypt(3) string that no password produces (random, never stored): SSH key login only. */
function unusableHash(): string {
  const chars = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  return Array.from({ length: 13 }, () => chars[randomInt(chars.length)]).join("");
}

const redactPassword = { pattern: /^root_password=.*$/m, replacement: "root_password=<crypt(3) hash, not shown>" };

export function zoneState(zone: string, states: string) {
  return new RegExp(`^[^:]*:${zone}:(?:${states}):`, "m");
}

export const noZone = /No such zone configured/;

export function zonesProvisionPlan(spec: DeploySpec, cfg: ZonesHostConfig): Plan {
  assertSafeSpec(spec);
  if (spec.image.os !== "solaris" || !spec.image.rootType) throw new Error(`image ${spec.image.slug} is not a Solaris zone image (no sparse or whole root)`);
  const n = zoneNames(spec, cfg);
  const install = spec.image.source === "install-file";
  const cfgText = zonecfgFile(spec, cfg);
  const wanted = cfgText.split("\n").filter((l) => /^set (zonepath|address|physical|ncpus)=/.test(l));
  const root = `${n.zonepath}/root`;

  const steps: PlanStep[] = [
    {
      step: "resolve",
      description: install ? "Nothing to resolve: zoneadm install copies the global zone's packages" : `Check that the golden zone ${n.golden} is installed and halted`,
      actions: install
        ? []
        : [
            run(["zoneadm", "-z", n.golden, "list", "-p"], `Golden zone of ${spec.image.slug}`, {
              expect: { stdout: zoneState(n.golden, "installed"), problem: `The golden zone ${n.golden} must be installed and halted to be cloned` },
              hint: `The golden zone is missing on this host: install ${n.golden} from the image's build notes, or drain the host`,
            }),
          ],
    },
    { step: "pack", description: install ? "Nothing to pack: the zone is installed from packages" : "Nothing to pack: zoneadm clones the golden zone's ZFS dataset in place", actions: [] },
    {
      step: "storage",
      description: `Configure zone ${n.zone} (${spec.image.rootType === "whole" ? "whole root" : "sparse root"}, zonepath ${n.zonepath} on ZFS${spec.flavor.cpuCap ? `, capped at ${spec.flavor.cpuCap} CPUs` : ""})`,
      actions: [
        run(["mkdir", "-p", cfg.stageDir], "Directory for the zone's command file"),
        write(n.cfgFile, cfgText, 0o644, "zonecfg command file: root type, zonepath, FSS shares, one net per network, CPU and memory caps"),
        run(["zonecfg", "-z", n.zone, "-f", n.cfgFile], "Create the zone's configuration", {
          alreadyDone: {
            when: /Zone exists, input not from terminal|already installed; create not allowed/,
            verify: {
              argv: ["zonecfg", "-z", n.zone, "export"],
              problem: (out, code) => {
                if (code !== 0) return "its configuration cannot be read";
                const have = new Set(out.split("\n").map((l) => l.trim()));
                const missing = wanted.filter((l) => !have.has(l));
                const sparse = have.has("add inherit-pkg-dir");
                if (sparse !== (spec.image.rootType === "sparse")) missing.push(spec.image.rootType === "sparse" ? "inherit-pkg-dir (sparse root)" : "no inherit-pkg-dir (whole root)");
                return missing.length ? `it lacks ${missing.join(", ")}` : null;
              },
            },
            advice: `If it is a leftover, remove it (zoneadm -z ${n.zone} uninstall -F; zonecfg -z ${n.zone} delete -F) and retry, or order under another name.`,
          },
        }),
        ...(install
          ? [
              run(["zfs", "create", "-o", `mountpoint=${n.zonepath}`, n.dataset], "ZFS dataset for the zonepath", {
                alreadyDone: {
                  when: /dataset already exists/,
                  verify: { argv: ["zfs", "get", "-H", "-o", "value", "mountpoint", n.dataset], problem: (out) => (out.trim() === n.zonepath ? null : `it is mounted at ${out.trim() || "nothing"}, not ${n.zonepath}`) },
                  advice: `Destroy the leftover dataset (zfs destroy -r ${n.dataset}) if no zone uses it.`,
                },
              }),
              run(["chmod", "700", n.zonepath], "zoneadm requires the zonepath to be private (mode 700)"),
            ]
          : []),
      ],
    },
    {
      step: "unpack",
      description: install
        ? `Install ${n.zone} from the global zone's packages`
        : spec.image.source === "copy"
          ? `Clone ${n.golden} into ${n.zone} as a full copy`
          : `Clone ${n.golden} into ${n.zone} (ZFS snapshot and clone of its zonepath)`,
      actions: [
        run(
          install ? ["zoneadm", "-z", n.zone, "install"] : spec.image.source === "copy" ? ["zoneadm", "-z", n.zone, "clone", "-m", "copy", n.golden] : ["zoneadm", "-z", n.zone, "clone", n.golden],
          install ? "Install the zone" : "Clone the golden zone",
          {
            alreadyDone: { when: /(install|clone) operation is invalid for (installed|ready|running) zones/, advice: "" },
            timeoutMs: 60 * 60_000,
          },
        ),
        ...zoneDataActions(spec, cfg),
      ],
    },
    {
      step: "networking",
      description: `Hosts and netmasks inside the zone; the addresses themselves are the zone's net resources (${spec.addresses.map((a) => `${a.ip} on ${physicalOf(a, cfg)}`).join(", ")})`,
      actions: [
        write(`${root}/etc/inet/hosts`, ["127.0.0.1\tlocalhost", ...spec.addresses.map((a, i) => `${a.ip}\t${spec.hostname}${i === 0 ? "\tloghost" : `-${a.network}`}`), ""].join("\n"), 0o644, "Hosts file with the zone's addresses"),
        write(`${root}/etc/inet/netmasks`, [...new Set(spec.addresses.map((a) => `${a.cidr.split("/")[0]}\t${netmaskOf(prefixOf(a.cidr))}`))].join("\n") + "\n", 0o644, "Netmasks of the zone's networks"),
      ],
    },
    {
      step: "glue",
      description: "sysidcfg for an unattended first boot (hostname, timezone, root password hash, name service) and the owner's SSH key",
      actions: [
        write(`${root}/etc/sysidcfg`, sysidcfgFile(spec, cfg, cfg.rootPasswordHash ?? unusableHash()), 0o600, cfg.rootPasswordHash ? "sysidcfg with the host's root password hash" : "sysidcfg with an unusable root password (SSH key login only)", { redact: redactPassword }),
        ...(spec.sshPublicKey
          ? [
              run(["mkdir", "-p", `${root}/.ssh`], "root's .ssh directory (root's home in a Solaris 10 zone is /)"),
              run(["chmod", "700", `${root}/.ssh`], "Private"),
              write(`${root}/.ssh/authorized_keys`, `${spec.sshPublicKey}\n`, 0o600, "The owner's SSH public key for root"),
            ]
          : []),
        // The service's variables and the recipe's files (lib/drivers/plan/guest-extras.ts); accounts and commands once the zone runs.
        ...zoneGuestFiles(spec, root),
      ],
    },
    {
      step: "boot",
      description: `Boot ${n.zone}`,
      actions: [run(["zoneadm", "-z", n.zone, "boot"], "First boot reads sysidcfg", { alreadyDone: { when: /boot operation is invalid for running zones/, advice: "" } })],
    },
    {
      step: "wait_ready",
      description: `Wait until zoneadm says running and the zone's SSH service is online${spec.accounts?.length || spec.recipePlan ? `; then add the order's accounts and run its recipe${spec.recipePlan ? ` ${spec.recipePlan.slug}` : ""} in the zone` : ""}`,
      actions: [
        run(["zoneadm", "-z", n.zone, "list", "-p"], `Zone ${n.zone} running`, {
          until: { ready: zoneState(n.zone, "running"), what: `zone ${n.zone} to run`, attempts: 60, intervalMs: 2000 },
        }),
        run(["zlogin", n.zone, "svcs", "-H", "-o", "state", "ssh"], "The zone answers: its SSH service is online", {
          until: { ready: /^online\s*$/m, what: `${n.zone} to answer (ssh service online)`, attempts: 90, intervalMs: 2000 },
        }),
        ...zoneGuestCommands(spec, root),
      ],
    },
  ];
  return { kind: "zones", host: spec.host.name, guest: spec.hostname, steps };
}

/**
 * /data after the zone root is in place: the dataset a reinstall kept is renamed back under the
 * new zonepath, else (or when there is none) an empty one is made. Its quota is the flavor's disk.
 */
function zoneDataActions(spec: DeploySpec, cfg: ZonesHostConfig) {
  const n = zoneNames(spec, cfg);
  return [
    run(["zfs", "rename", n.kept, n.data], "Take back the /data a reinstall kept", {
      alreadyDone: { when: /dataset does not exist/, advice: "", note: "no /data kept from an earlier install: a new one is made" },
    }),
    run(["zfs", "create", "-o", "mountpoint=legacy", n.data], "The zone's /data: its own dataset, mounted by the zone (zonecfg add fs)", {
      alreadyDone: { when: /dataset already exists/, advice: "" },
    }),
    run(["zfs", "set", `quota=${spec.flavor.diskGb}g`, n.data], `Let /data hold up to ${spec.flavor.diskGb} GiB`),
  ];
}

/**
 * Before the zone is uninstalled: a reinstall that keeps the data renames /data aside (a rerun
 * finds it there; a zone without a /data dataset of its own stops here, its files are on the
 * root); otherwise /data and any copy a stopped reinstall kept are destroyed.
 */
function zoneDataTeardown(spec: DeploySpec, cfg: ZonesHostConfig) {
  const n = zoneNames(spec, cfg);
  const gone = { when: /dataset does not exist/, advice: "" };
  if (spec.keepData) {
    return [
      run(["zfs", "rename", n.data, n.kept], "Set /data aside while the zone root is rebuilt", {
        alreadyDone: {
          when: /dataset does not exist/,
          verify: {
            argv: ["zfs", "list", "-H", "-o", "name", n.kept],
            problem: (_out, code) => (code === 0 ? null : `the zone has no /data dataset of its own (it was delivered before zones had one: its /data is on the root)`),
          },
          advice: "Copy /data away, then reinstall without keeping the data.",
        },
      }),
    ];
  }
  return [
    run(["zfs", "destroy", "-r", n.data], "Destroy /data and its snapshots", { alreadyDone: gone }),
    run(["zfs", "destroy", "-r", n.kept], "Destroy a /data kept by a reinstall that did not finish", { alreadyDone: gone }),
  ];
}

export function zoneHaltStep(spec: DeploySpec): PlanStep {
  return {
    step: "halt",
    description: `Halt zone ${spec.hostname}`,
    actions: [run(["zoneadm", "-z", spec.hostname, "halt"], "Stop the zone", { alreadyDone: { when: new RegExp(`halt operation is invalid for (installed|configured|incomplete) zones|${noZone.source}`), advice: "" } })],
  };
}

export function zoneBootStep(spec: DeploySpec): PlanStep {
  return {
    step: "start",
    description: `Boot zone ${spec.hostname}`,
    actions: [run(["zoneadm", "-z", spec.hostname, "boot"], "Boot", { alreadyDone: { when: /boot operation is invalid for running zones/, advice: "" } })],
  };
}

export function zonesTeardownPlan(spec: DeploySpec, cfg: ZonesHostConfig): Plan {
  assertSafeSpec(spec);
  const n = zoneNames(spec, cfg);
  return {
    kind: "zones",
    host: spec.host.name,
    guest: spec.hostname,
    steps: [
      zoneHaltStep(spec),
      {
        step: "destroy",
        description: spec.keepData
          ? `Set ${n.data} aside as ${n.kept}, uninstall and delete zone ${n.zone} and destroy its dataset ${n.dataset}`
          : `Uninstall and delete zone ${n.zone} and destroy its datasets ${n.dataset} and ${n.data}`,
        actions: [
          ...zoneDataTeardown(spec, cfg),
          run(["zoneadm", "-z", n.zone, "uninstall", "-F"], "Remove the zone's files", {
            alreadyDone: { when: new RegExp(`uninstall operation is invalid for (configured|incomplete) zones|${noZone.source}`), advice: "" },
          }),
          run(["zonecfg", "-z", n.zone, "delete", "-F"], "Remove the zone's configuration", { alreadyDone: { when: noZone, advice: "" } }),
          run(["zfs", "destroy", "-r", n.dataset], "Destroy the zonepath's dataset and its snapshots", { alreadyDone: { when: /dataset does not exist/, advice: "" } }),
          run(["rm", "-f", n.cfgFile], "Remove the zonecfg command file"),
        ],
      },
    ],
  };
}
