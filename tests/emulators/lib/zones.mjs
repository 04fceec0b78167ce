/**
 * TEST EMULATOR, NOT THE REAL TOOL: Solaris 10 `zonecfg`, `zoneadm`, `zlogin`, `psrinfo` and
 * `prtconf`, answering like the real ones (zonecfg(1M), zoneadm(1M): export format, `list -p`
 * lines, "operation is invalid for ... zones" refusals). Zones are records in
 * $EMU_STATE/zones/zones.json; their files live in the zonepath. Nothing boots: a "running"
 * zone's ssh service is online when its sysidcfg is complete and valid, as the real first
 * boot needs it to be to come up without console prompts.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createHash, randomUUID } from "node:crypto";
import { copyDir, facts, fail, load, out, parseArgs, save } from "./state.mjs";
import { emulatedConsole } from "./console.mjs";
import { createDataset, datasetAt, dirOf, zfsLoad, zfsSave } from "./zfs.mjs";
import { inGuest } from "./guest.mjs";

const SPARSE_DIRS = ["/lib", "/platform", "/sbin", "/usr"];
const zonesLoad = () => load("zones/zones", {});
const zonesSave = (z) => save("zones/zones", z);
const noSuchZone = (prog, name) => fail(`${prog}: ${name}: No such zone configured`, 1);
const invalidOp = (name, op, state) => fail(`zoneadm: zone '${name}': ${op} operation is invalid for ${state} zones.`, 1);

/** Parses a zonecfg command file into a configuration, like zonecfg -f does. */
function parseCommands(name, text, file) {
  const cfg = { ipds: [], nets: [], fss: [], props: {}, cappedCpu: null, cappedMemory: null, created: false };
  let res = null;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const where = `On line ${i + 1} of ${file}:`;
    const [word, ...args] = line.split(/\s+/);
    if (word === "create") {
      cfg.created = true;
      cfg.ipds = args.includes("-b") ? [] : [...SPARSE_DIRS];
      return;
    }
    if (word === "verify" || word === "commit" || word === "exit") {
      if (!cfg.props.zonepath) fail(`${where}\nzonepath cannot be empty.`, 1);
      return;
    }
    if (word === "add") {
      const type = args[0];
      if (!["net", "capped-cpu", "capped-memory", "inherit-pkg-dir", "fs"].includes(type)) fail(`${where}\nUnknown resource type: ${type}`, 1);
      res = { type, props: {} };
      return;
    }
    if (word === "end") {
      if (!res) fail(`${where}\nend: not in a resource`, 1);
      if (res.type === "net") {
        if (!res.props.address || !res.props.physical) fail(`${where}\nnet: address and physical are required`, 1);
        cfg.nets.push(res.props);
      } else if (res.type === "capped-cpu") {
        if (!/^\d+(\.\d+)?$/.test(res.props.ncpus ?? "")) fail(`${where}\nncpus: invalid value`, 1);
        cfg.cappedCpu = res.props;
      } else if (res.type === "capped-memory") cfg.cappedMemory = res.props;
      else if (res.type === "inherit-pkg-dir") cfg.ipds.push(res.props.dir);
      else if (res.type === "fs") {
        if (!res.props.dir?.startsWith("/") || !res.props.special || !res.props.type) fail(`${where}\nfs: dir, special and type are required`, 1);
        cfg.fss.push(res.props);
      }
      res = null;
      return;
    }
    if (word === "set") {
      const m = /^set ([a-z-]+)=(\S+)$/.exec(line);
      if (!m) fail(`${where}\nsyntax error`, 1);
      const known = res
        ? { net: ["address", "physical", "defrouter"], "capped-cpu": ["ncpus"], "capped-memory": ["physical", "swap", "locked"], "inherit-pkg-dir": ["dir"], fs: ["dir", "special", "type"] }[res.type]
        : ["zonepath", "autoboot", "ip-type", "scheduling-class", "cpu-shares", "pool", "limitpriv", "bootargs"];
      if (!known.includes(m[1])) fail(`${where}\nUnknown property type: ${m[1]}`, 1);
      (res ? res.props : cfg.props)[m[1]] = m[2];
      return;
    }
    fail(`${where}\nUnknown command: ${word}`, 1);
  });
  if (!cfg.created) fail(`${name}: No such zone configured\nUse 'create' to begin configuring a new zone.`, 1);
  return cfg;
}

/**
 * Applies a zonecfg command file without `create` to an existing zone's configuration:
 * global `set`, and `add`, `select` or `remove` of the capped-cpu and capped-memory resources.
 */
function modifyCommands(name, cfg, text, file) {
  const caps = { "capped-cpu": "cappedCpu", "capped-memory": "cappedMemory" };
  let res = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const where = `On line ${i + 1} of ${file}:`;
    const [word, type] = line.split(/\s+/);
    if (word === "verify" || word === "commit" || word === "exit") return;
    if (word === "add" && type === "net") {
      res = { type, props: {} };
      return;
    }
    if (word === "remove" && type === "net") {
      // remove net address=IP/PREFIX (zonecfg(1M): a resource selected by its properties)
      const m = /^remove net address=(\S+)$/.exec(line);
      if (!m) fail(`${where}\nremove net: name the resource by its address (remove net address=...)`, 1);
      const i = cfg.nets.findIndex((n) => n.address === m[1]);
      if (i < 0) fail(`${where}\nNo such net resource.`, 1);
      cfg.nets.splice(i, 1);
      return;
    }
    if (word === "add" || word === "select" || word === "remove") {
      if (!caps[type]) fail(`${where}\n${word} ${type}: not emulated for an existing zone`, 1);
      const current = cfg[caps[type]];
      if (word !== "add" && !current) fail(`${where}\nNo such ${type} resource.`, 1);
      if (word === "add" && current) fail(`${where}\nA ${type} resource already exists.`, 1);
      if (word === "remove") cfg[caps[type]] = null;
      else res = { type, props: word === "select" ? { ...current } : {} };
      return;
    }
    if (word === "end") {
      if (!res) fail(`${where}\nend: not in a resource`, 1);
      if (res.type === "net") {
        if (!res.props.address || !res.props.physical) fail(`${where}\nnet: address and physical are required`, 1);
        if (cfg.nets.some((n) => n.address === res.props.address)) fail(`${where}\nnet: a resource with address ${res.props.address} already exists`, 1);
        cfg.nets.push(res.props);
        res = null;
        return;
      }
      if (res.type === "capped-cpu" && !/^\d+(\.\d+)?$/.test(res.props.ncpus ?? "")) fail(`${where}\nncpus: invalid value`, 1);
      cfg[caps[res.type]] = res.props;
      res = null;
      return;
    }
    const m = /^set ([a-z-]+)=(\S+)$/.exec(line);
    if (word !== "set" || !m) fail(`${where}\nUnknown command: ${word}`, 1);
    const known = res ? { "capped-cpu": ["ncpus"], "capped-memory": ["physical", "swap", "locked"], net: ["address", "physical"] }[res.type] : ["autoboot", "scheduling-class", "cpu-shares", "bootargs"];
    if (!known.includes(m[1])) fail(`${where}\nUnknown property type: ${m[1]}`, 1);
    (res ? res.props : cfg.props)[m[1]] = m[2];
  });
  if (res) fail(`${name}: incomplete resource ${res.type} (no end)`, 1);
  return cfg;
}

function exportCfg(cfg) {
  const lines = ["create -b", `set zonepath=${cfg.props.zonepath}`, `set autoboot=${cfg.props.autoboot ?? "false"}`, `set ip-type=${cfg.props["ip-type"] ?? "shared"}`];
  if (cfg.props["scheduling-class"]) lines.push(`set scheduling-class=${cfg.props["scheduling-class"]}`);
  for (const dir of cfg.ipds) lines.push("add inherit-pkg-dir", `set dir=${dir}`, "end");
  for (const n of cfg.nets) lines.push("add net", `set address=${n.address}`, `set physical=${n.physical}`, ...(n.defrouter ? [`set defrouter=${n.defrouter}`] : []), "end");
  for (const f of cfg.fss ?? []) lines.push("add fs", `set dir=${f.dir}`, `set special=${f.special}`, `set type=${f.type}`, "end");
  if (cfg.cappedCpu) lines.push("add capped-cpu", `set ncpus=${cfg.cappedCpu.ncpus}`, "end");
  if (cfg.cappedMemory) lines.push("add capped-memory", ...["physical", "swap", "locked"].filter((k) => cfg.cappedMemory[k]).map((k) => `set ${k}=${cfg.cappedMemory[k]}`), "end");
  if (cfg.props["cpu-shares"]) lines.push("add rctl", "set name=zone.cpu-shares", `add value (priv=privileged,limit=${cfg.props["cpu-shares"]},action=none)`, "end");
  return lines.join("\n");
}

export function zonecfg(args) {
  const { opts, rest } = parseArgs(args, ["-z", "-f", "-a"]);
  const name = opts.z;
  if (!name) fail("zonecfg: no zone specified (use -z)", 1);
  const zones = zonesLoad();
  const zone = zones[name];
  if (opts.f) {
    if (zone && existsSync(opts.f) && !/^\s*create\b/m.test(readFileSync(opts.f, "utf8"))) {
      zone.cfg = modifyCommands(name, zone.cfg, readFileSync(opts.f, "utf8"), opts.f);
      return zonesSave(zones);
    }
    if (zone) {
      if (zone.state !== "configured") fail(`Zone ${name} already installed; create not allowed.`, 1);
      fail("Zone exists, input not from terminal and -F not specified:\ncreate command ignored, exiting.", 1);
    }
    if (!existsSync(opts.f)) fail(`zonecfg: could not open ${opts.f}: No such file or directory`, 1);
    const cfg = parseCommands(name, readFileSync(opts.f, "utf8"), opts.f);
    zones[name] = { state: "configured", uuid: randomUUID(), cfg };
    return zonesSave(zones);
  }
  const [cmd, ...more] = rest;
  switch (cmd) {
    case "export":
      if (!zone) noSuchZone("zonecfg", name);
      return out(exportCfg(zone.cfg));
    case "info":
      if (!zone) noSuchZone("zonecfg", name);
      if (more[0] === "zonepath") return out(`zonepath: ${zone.cfg.props.zonepath}`);
      return out(exportCfg(zone.cfg));
    case "delete":
      if (!zone) noSuchZone("zonecfg", name);
      if (zone.state !== "configured") fail(`Zone ${name} not in configured state; delete not allowed.`, 1);
      delete zones[name];
      return zonesSave(zones);
    case "create": {
      // create -a PATH: the configuration of a detached zonepath
      const o = opts;
      if (zone) fail(zone.state === "configured" ? "Zone exists, input not from terminal and -F not specified:\ncreate command ignored, exiting." : `Zone ${name} already installed; create not allowed.`, 1);
      const manifest = path.join(o.a ?? "", "SUNWdetached.xml");
      if (!o.a || !existsSync(manifest)) fail(`zonecfg: could not find a detached zone at ${o.a} (SUNWdetached.xml missing)`, 1);
      const detached = JSON.parse(readFileSync(manifest, "utf8"));
      zones[name] = { state: "configured", uuid: randomUUID(), cfg: { ...detached.cfg, props: { ...detached.cfg.props, zonepath: o.a } } };
      return zonesSave(zones);
    }
    default:
      fail(`zonecfg: unsupported by this test emulator: ${args.join(" ")}`, 1);
  }
}

function zoneLine(name, z) {
  const id = z.state === "running" ? z.id : "-";
  return `${id}:${name}:${z.state}:${z.cfg.props.zonepath}:${z.uuid}:native:${z.cfg.props["ip-type"] ?? "shared"}`;
}

/** The zonepath must be on a ZFS dataset (or its parent must be, for zoneadm to create one). */
function populateRoot(zonepath, cfg, hostname) {
  const root = path.join(zonepath, "root");
  for (const dir of ["etc/inet", "var/svc", "dev", "tmp"]) mkdirSync(path.join(root, dir), { recursive: true });
  if (!cfg.ipds.length) for (const dir of SPARSE_DIRS) mkdirSync(path.join(root, dir.slice(1)), { recursive: true });
  writeFileSync(path.join(root, "etc/release"), "Solaris 10 1/13 s10x_u11wos_24a X86 (test emulator)\n");
  writeFileSync(path.join(root, "etc/nodename"), `${hostname}\n`);
}

/** sysidcfg(4) keys the first boot needs; a missing or unknown key means console prompts. */
function sysidProblem(zonepath) {
  const file = path.join(zonepath, "root/etc/sysidcfg");
  if (!existsSync(file)) return "no sysidcfg: the zone waits at the console for answers";
  const keys = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const m = /^([a-z_0-9]+)=(.+)$/.exec(line);
    if (!m) return `sysidcfg: syntax error in "${line}"`;
    keys[m[1]] = m[2];
  }
  const known = ["system_locale", "terminal", "network_interface", "security_policy", "name_service", "nfs4_domain", "timezone", "root_password", "timeserver", "auto_reg", "keyboard"];
  const unknown = Object.keys(keys).filter((k) => !known.includes(k));
  if (unknown.length) return `sysidcfg: unknown keyword ${unknown[0]}`;
  for (const k of ["system_locale", "terminal", "network_interface", "security_policy", "name_service", "timezone", "root_password"]) if (!keys[k]) return `sysidcfg: ${k} missing`;
  if (!/^[./A-Za-z0-9$,=]{13,}$/.test(keys.root_password)) return "sysidcfg: root_password is not an encrypted password";
  if (!/\{hostname=[a-z][a-z0-9-]*\}/.test(keys.network_interface)) return "sysidcfg: network_interface has no hostname";
  return null;
}

/**
 * The zone's `add fs` resources of type zfs, mounted at boot like zoneadmd does (the dataset must
 * exist with mountpoint=legacy): here a symbolic link in the zone's root to the dataset's directory.
 */
function mountFilesystems(name, zone) {
  const s = zfsLoad();
  const root = path.join(zone.cfg.props.zonepath, "root");
  for (const f of zone.cfg.fss ?? []) {
    const d = s.datasets[f.special];
    if (f.type !== "zfs") fail(`zoneadm: zone '${name}': fs type ${f.type} is not emulated`, 1);
    if (!d) fail(`cannot open '${f.special}': dataset does not exist\nzoneadm: zone '${name}': failed to mount ${f.special} at ${f.dir}\nzoneadm: zone '${name}': call to zoneadmd failed`, 1);
    if (d.mountpoint !== "legacy") fail(`zoneadm: zone '${name}': ${f.special}: the mountpoint of a zfs fs resource must be legacy\nzoneadm: zone '${name}': call to zoneadmd failed`, 1);
    const at = path.join(root, f.dir);
    rmSync(at, { recursive: true, force: true });
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(dirOf(d), at);
  }
}

function unmountFilesystems(zone) {
  const root = path.join(zone.cfg.props.zonepath, "root");
  for (const f of zone.cfg.fss ?? []) {
    const at = path.join(root, f.dir);
    if (lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(at);
  }
}

export function zoneadm(args) {
  const { opts, rest } = parseArgs(args, ["-z", "-m"]);
  const zones = zonesLoad();
  const name = opts.z;
  const [cmd, ...more] = rest;
  const zone = name ? zones[name] : null;
  if (cmd === "list") {
    const o = opts;
    if (name) {
      if (!zone) fail(`zoneadm: ${name}: No such zone configured`, 1);
      return out(o.p ? zoneLine(name, zone) : `${name}`);
    }
    const shown = Object.entries(zones).filter(([, z]) => o.c || o.i ? (o.c || z.state !== "configured") : z.state === "running");
    if (o.p) return out([`0:global:running:/::native:shared`, ...shown.map(([n, z]) => zoneLine(n, z))].join("\n"));
    if (o.v) {
      const lines = ["  ID NAME             STATUS     PATH                           BRAND    IP    ", "   0 global           running    /                              native   shared"];
      for (const [n, z] of shown) lines.push(`${String(z.state === "running" ? z.id : "-").padStart(4)} ${n.padEnd(16)} ${z.state.padEnd(10)} ${z.cfg.props.zonepath.padEnd(30)} native   shared`);
      return out(lines.join("\n"));
    }
    return out(["global", ...shown.map(([n]) => n)].join("\n"));
  }
  if (!name) fail("zoneadm: no zone specified (use -z)", 1);
  if (!zone) fail(`zoneadm: ${name}: No such zone configured`, 1);
  const zonepath = zone.cfg.props.zonepath;
  switch (cmd) {
    case "install": {
      if (zone.state !== "configured") invalidOp(name, "install", zone.state);
      if (existsSync(zonepath)) {
        if ((statSync(zonepath).mode & 0o077) !== 0) fail(`${zonepath} must not be group readable.\n${zonepath} must not be group executable.\n${zonepath} must not be world readable.\n${zonepath} must not be world executable.\ncould not verify zonepath ${zonepath} because of the above errors.\nzoneadm: zone ${name} failed to verify`, 1);
      } else mkdirSync(zonepath, { recursive: true, mode: 0o700 });
      out(`Preparing to install zone <${name}>.\nCreating list of files to copy from the global zone.\nCopying <2417> files to the zone.\nInitializing zone product registry.\nDetermining zone package initialization order.\nPreparing to initialize <1096> packages on the zone.\nInitialized <1096> packages on zone.\nZone <${name}> is initialized.`);
      populateRoot(zonepath, zone.cfg, name);
      zone.state = "installed";
      return zonesSave(zones);
    }
    case "clone": {
      const source = more.filter((a) => !a.startsWith("-"))[0];
      const src = zones[source];
      if (zone.state !== "configured") invalidOp(name, "clone", zone.state);
      if (!src) fail(`zoneadm: ${source}: No such zone configured`, 1);
      if (src.state !== "installed") fail(`zoneadm: zone '${name}': ${source} must be installed and halted to be cloned (it is ${src.state})`, 1);
      if (src.cfg.ipds.join(",") !== zone.cfg.ipds.join(",")) fail(`zoneadm: zone '${name}': the source and target zones have different inherit-pkg-dir resources`, 1);
      const srcPath = src.cfg.props.zonepath;
      const s = zfsLoad();
      const srcDs = datasetAt(srcPath);
      const parentDs = datasetAt(path.dirname(zonepath));
      if (!parentDs) fail(`zoneadm: zone '${name}': the parent of ${zonepath} is not a ZFS dataset (the emulator supports ZFS zonepaths only)`, 1);
      const ds = `${parentDs}/${path.basename(zonepath)}`;
      if (opts.m === "copy" || !srcDs) {
        out(`Copying ${srcPath}...`);
        createDataset(s, ds, zonepath);
        copyDir(srcPath, zonepath);
      } else {
        let n = 1;
        while (s.snapshots[`${srcDs}@SUNWzone${n}`]) n++;
        const snap = `${srcDs}@SUNWzone${n}`;
        s.snapshots[snap] = { created: Date.now() };
        copyDir(srcPath, path.join(process.env.EMU_STATE, "zfs/snapshots", snap.replace(/[/@]/g, "_")));
        out(`Cloning snapshot ${snap}\nInstance was cloned as ${ds}`);
        createDataset(s, ds, zonepath, snap);
        copyDir(srcPath, zonepath);
      }
      chmodSync(zonepath, 0o700);
      zfsSave(s);
      rmSync(path.join(zonepath, "root/etc/sysidcfg"), { force: true });
      writeFileSync(path.join(zonepath, "root/etc/nodename"), `${name}\n`);
      zone.state = "installed";
      return zonesSave(zones);
    }
    case "boot": {
      if (zone.state !== "installed" && zone.state !== "ready") invalidOp(name, "boot", zone.state);
      const bad = zone.cfg.nets.find((n) => !facts().interfaces || !facts().interfaces.includes(n.physical));
      if (bad && facts().interfaces) fail(`zoneadm: zone '${name}': could not find network interface '${bad.physical}' in the global zone\nzoneadm: zone '${name}': call to zoneadmd failed`, 1);
      mountFilesystems(name, zone);
      const id = load("zones/nextid", 1);
      save("zones/nextid", id + 1);
      zone.state = "running";
      zone.id = id;
      zone.sysid = sysidProblem(zonepath);
      return zonesSave(zones);
    }
    case "halt":
      if (zone.state !== "running" && zone.state !== "ready") invalidOp(name, "halt", zone.state);
      unmountFilesystems(zone);
      zone.state = "installed";
      delete zone.id;
      return zonesSave(zones);
    case "uninstall": {
      if (zone.state !== "installed") invalidOp(name, "uninstall", zone.state);
      const s = zfsLoad();
      const ds = datasetAt(zonepath);
      if (ds) {
        for (const snap of Object.keys(s.snapshots)) if (snap.startsWith(`${ds}@`)) delete s.snapshots[snap];
        delete s.datasets[ds];
        zfsSave(s);
      }
      rmSync(zonepath, { recursive: true, force: true });
      zone.state = "configured";
      return zonesSave(zones);
    }
    case "detach":
      if (zone.state !== "installed") invalidOp(name, "detach", zone.state);
      writeFileSync(path.join(zonepath, "SUNWdetached.xml"), JSON.stringify({ zone: name, cfg: zone.cfg }));
      zone.state = "configured";
      return zonesSave(zones);
    case "attach": {
      if (zone.state !== "configured") invalidOp(name, "attach", zone.state);
      const manifest = path.join(zonepath, "SUNWdetached.xml");
      // -F: forced, taken as installed without the detached zone's manifest (a received copy of an installed zone).
      if (opts.F && !existsSync(manifest)) {
        if (!existsSync(zonepath)) fail(`zoneadm: zone '${name}': ${zonepath} does not exist`, 1);
        zone.state = "installed";
        return zonesSave(zones);
      }
      if (!existsSync(manifest)) fail(`zoneadm: zone '${name}': ${zonepath} does not hold a detached zone (no SUNWdetached.xml)`, 1);
      if (opts.u) out(`Getting the list of files to remove\nRemoving 0 files\nRemove 0 of 0 packages\nInstalling 0 files\nAdd 0 of 0 packages\nUpdating editable files\nThe file </var/sadm/system/logs/update_log> within the zone contains a log of the zone update.`);
      rmSync(manifest);
      zone.state = "installed";
      return zonesSave(zones);
    }
    default:
      fail(`zoneadm: unsupported by this test emulator: ${args.join(" ")}`, 1);
  }
}

export function zlogin(args) {
  if (args[0] === "-C") {
    const zone = zonesLoad()[args[1]];
    if (!zone) fail(`zlogin: zone '${args[1]}' unknown`, 1);
    return emulatedConsole({ argv: ["zlogin", ...args], banner: `[Connected to zone '${args[1]}' console]`, hostname: args[1], prompt: `${args[1]}# `, root: path.join(zone.cfg.props.zonepath, "root") });
  }
  // Like the real zlogin, the words after the zone are one command line for the zone's shell.
  const [name, ...words] = args;
  const cmd = shellWords(words.join(" "));
  const zone = zonesLoad()[name];
  if (!zone) fail(`zlogin: zone '${name}' unknown`, 1);
  if (zone.state !== "running") fail(`zlogin: login allowed only to running zones (${name} is '${zone.state}').`, 1);
  const root = path.join(zone.cfg.props.zonepath, "root");
  const [prog, ...rest] = cmd;
  if (prog === "sh" && rest[0] === "-c") {
    // The one script the portal runs this way: the backup marker, its text and paths as arguments.
    const [script, , text, file, dir] = rest.slice(1);
    const inZone = (p) => (p?.startsWith("/") && !p.split("/").includes("..") ? path.join(root, p) : null);
    if (script !== 'mkdir -p "$3" && echo "$1" > "$2" && sync' || !inZone(file) || !inZone(dir)) fail(`zlogin: sh -c ${script}: not supported by this test emulator`, 127);
    mkdirSync(inZone(dir), { recursive: true });
    writeFileSync(inZone(file), `${text}\n`);
    return;
  }
  // The order's accounts and recipe (./guest.mjs); svcadm and svcs of services other than ssh.
  const fmri = rest.find((a) => a.startsWith("svc:/"));
  if (prog === "svcs" && fmri) return out(zone.services?.[fmri] ?? "disabled");
  const services = { ...(zone.services ?? {}) };
  if (inGuest(root, prog, rest, services)) {
    const all = zonesLoad();
    all[name].services = services;
    zonesSave(all);
    return;
  }
  if (prog === "svcs") {
    // The ssh service comes online only after an unattended first boot.
    return out(zone.sysid ? "uninitialized" : "online");
  }
  if (prog === "hostname") {
    const m = existsSync(path.join(root, "etc/sysidcfg")) ? /hostname=([a-z0-9-]+)/.exec(readFileSync(path.join(root, "etc/sysidcfg"), "utf8")) : null;
    return out(m ? m[1] : "unknown");
  }
  if (prog === "cat" && rest[0]?.startsWith("/") && !rest[0].includes("..")) {
    const file = path.join(root, rest[0]);
    if (!existsSync(file)) fail(`cat: cannot open ${rest[0]}`, 2);
    return process.stdout.write(readFileSync(file));
  }
  fail(`zlogin: ${prog}: not supported by this test emulator`, 127);
}

/** POSIX shell words of a command line: single and double quotes, backslashes (no expansions). */
function shellWords(line) {
  const words = [];
  let word = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) fail("sh: syntax error: unterminated quoted string", 2);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let part = "";
      for (; j < line.length && line[j] !== '"'; j++) part += line[j] === "\\" && /["\\$`]/.test(line[j + 1] ?? "") ? line[++j] : line[j];
      if (j >= line.length) fail("sh: syntax error: unterminated quoted string", 2);
      word = (word ?? "") + part;
      i = j;
    } else if (c === "\\") word = (word ?? "") + (line[++i] ?? "");
    else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return words;
}

/** Solaris `digest -a sha256 FILE`: the hex digest alone. */
export function digest(args) {
  const { opts, rest } = parseArgs(args, ["-a"]);
  if (opts.a !== "sha256") fail(`digest: unsupported algorithm ${opts.a} (test emulator)`, 1);
  if (!rest[0] || !existsSync(rest[0])) fail(`digest: cannot open ${rest[0]}`, 1);
  out(createHash("sha256").update(readFileSync(rest[0])).digest("hex"));
}

export function psrinfo() {
  out(Array.from({ length: facts().cpus }, (_, i) => `${i}\ton-line   since 11/25/2026 08:00:00`).join("\n"));
}

export function prtconf() {
  out(`System Configuration:  Oracle Corporation  i86pc (test emulator)\nMemory size: ${facts().memoryMb} Megabytes\nSystem Peripherals (Software Nodes):\n`);
}

/**
 * `ifconfig NIC addif ADDRESS[/PREFIX] zone ZONE up` and `ifconfig NIC removeif ADDRESS`: a
 * logical interface of the global zone's NIC given to a running shared-IP zone, kept in
 * $EMU_STATE/zones/logical.json; errors worded like Solaris 10's (SIOCLIFADDIF: File exists).
 */
export function ifconfig(args) {
  const [nic, cmd, address, ...more] = args;
  const nics = facts().interfaces ?? ["e1000g0"];
  if (!nics.includes(nic)) fail(`ifconfig: ${nic}: no such interface`, 1);
  const logical = load("zones/logical", {});
  const ip = (address ?? "").split("/")[0];
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) fail(`ifconfig: ${address}: bad address`, 1);
  if (cmd === "addif") {
    const zi = more.indexOf("zone");
    const zoneName = zi >= 0 ? more[zi + 1] : null;
    if (zoneName) {
      const z = zonesLoad()[zoneName];
      if (!z) fail(`ifconfig: unknown zone '${zoneName}'`, 1);
      if (z.state !== "running") fail(`ifconfig: zone '${zoneName}' is not ready or running`, 1);
    }
    if (logical[ip]) fail(`ifconfig: SIOCLIFADDIF: ${nic}: File exists`, 1);
    logical[ip] = { nic, zone: zoneName, up: more.includes("up") };
    save("zones/logical", logical);
    return out(`Created new logical interface ${nic}:${Object.keys(logical).length}`);
  }
  if (cmd === "removeif") {
    if (!logical[ip] || logical[ip].nic !== nic) fail(`ifconfig: removeif: SIOCLIFREMOVEIF: ${nic}: Cannot assign requested address`, 1);
    delete logical[ip];
    return save("zones/logical", logical);
  }
  fail(`ifconfig: unsupported by this test emulator: ${args.join(" ")}`, 1);
}

/**
 * `ipf -E` (enable IP Filter) and `ipf -Fa -f FILE` (flush all rules, load FILE): the rules
 * kept in $EMU_STATE/ipf.json after a syntax check of the lines the portal writes.
 */
export function ipf(args) {
  const { opts } = parseArgs(args, ["-f", "-F"]);
  const state = load("ipf", { enabled: false, rules: [] });
  if (opts.E) state.enabled = true;
  if (opts.F === "a") state.rules = [];
  if (opts.f) {
    if (!existsSync(opts.f)) fail(`ipf: could not open ${opts.f}`, 1);
    const cidr = "\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}";
    const rule = new RegExp(`^(block|pass) (in|out)( quick)? from (${cidr}|any) to (${cidr}|any)$`);
    readFileSync(opts.f, "utf8").split("\n").forEach((raw, i) => {
      const line = raw.replace(/#.*$/, "").trim();
      if (!line) return;
      if (line === "set intercept_loopback true;") return void (state.interceptLoopback = true);
      if (!rule.test(line)) fail(`ipf: ${opts.f}: line ${i + 1}: syntax error`, 1);
      state.rules.push(line);
    });
  }
  if (!state.enabled && (opts.f || opts.F)) fail("ipf: IP Filter is disabled (ipf -E enables it)", 1);
  save("ipf", state);
}
