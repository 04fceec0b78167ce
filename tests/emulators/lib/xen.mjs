/**
 * TEST EMULATOR, NOT THE REAL TOOL: `xl` (info, list, console, create, sched-credit, shutdown, destroy,
 * migrate) and `nc -z` (a guest answering on a port). Domains are records in
 * $EMU_STATE/xen/domains.json; nothing boots. A domain "answers" on an address when its disk
 * holds /etc/network/interfaces with that address (written by the portal's glue).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { emulatedConsole } from "./console.mjs";
import { postgresListens } from "./postgres.mjs";
import { deviceLv, lvData } from "./lvm.mjs";
import { facts, fail, load, out, parseArgs, peer, save } from "./state.mjs";
import { emulatedCpuSeconds } from "./usage.mjs";

const domains = (state) => (state ? JSON.parse(existsOr(path.join(state, "xen/domains.json"), "{}")) : load("xen/domains", {}));
const existsOr = (file, fallback) => (existsSync(file) ? readFileSync(file, "utf8") : fallback);

function invalid(name) {
  fail(`${name} is an invalid domain identifier (rc=-6)`, 1);
}

/** xl.cfg key = value pairs; strings in quotes, lists in [ ... ]. */
function parseCfg(text) {
  const cfg = {};
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const m = /^([a-z_]+)\s*=\s*(.+)$/.exec(line);
    if (!m) fail(`config parsing error near \`${line.slice(0, 40)}': syntax error`, 1);
    const v = m[2].trim();
    if (v.startsWith("[")) cfg[m[1]] = [...v.matchAll(/'([^']*)'|"([^"]*)"/g)].map((x) => x[1] ?? x[2]);
    else if (/^["']/.test(v)) cfg[m[1]] = v.slice(1, -1);
    else if (/^\d+$/.test(v)) cfg[m[1]] = Number(v);
    else fail(`config parsing error near \`${v.slice(0, 40)}': syntax error`, 1);
  }
  return cfg;
}

function row(name, d) {
  return `${name.padEnd(40)}${String(d.id).padStart(5)}${String(d.memory).padStart(6)}${String(d.vcpus).padStart(6)}     ${d.state}  ${String(d.time ?? emulatedCpuSeconds(d.vcpus)).padStart(8)}`;
}

export function xl(args) {
  const [cmd, ...rest] = args;
  const all = load("xen/domains", {});
  const f = facts();
  switch (cmd) {
    case "info": {
      const used = Object.values(all).reduce((a, d) => a + d.memory, 0);
      const lines = { host: f.hostname, release: "6.1.0-emulated", nr_cpus: f.cpus, total_memory: f.memoryMb, free_memory: f.memoryMb - 1024 - used, xen_version: "4.17.3 (test emulator)", xen_scheduler: "credit2" };
      return out(Object.entries(lines).map(([k, v]) => `${k.padEnd(23)}: ${v}`).join("\n"));
    }
    case "console": {
      const [name] = rest;
      if (!all[name]) invalid(name);
      const lv = deviceLv(all[name].disk);
      return emulatedConsole({ argv: ["xl", ...args], hostname: name, prompt: `root@${name}:~# `, root: lv ? lvData(...lv) : null });
    }
    case "list": {
      const { opts, rest: names } = parseArgs(rest);
      if (names.length && !all[names[0]]) invalid(names[0]);
      if (opts.l) return out(JSON.stringify(names.map((n) => ({ domid: all[n].id, config: { c_info: { name: n }, b_info: { max_memkb: all[n].memory * 1024 } } })), null, 4));
      const lines = ["Name                                        ID   Mem VCPUs\tState\tTime(s)"];
      if (!names.length) lines.push(row("Domain-0", { id: 0, memory: 1024, vcpus: f.cpus, state: "r-----" }));
      for (const n of names.length ? names : Object.keys(all)) lines.push(row(n, all[n]));
      out(lines.join("\n"));
      // Shut-down domains are listed once more, then xl's watcher has destroyed them.
      const dying = Object.keys(all).filter((n) => all[n].dying);
      for (const n of dying) delete all[n];
      if (dying.length) save("xen/domains", all);
      return;
    }
    case "create": {
      const file = rest.find((a) => !a.startsWith("-"));
      if (!file || !existsSync(file)) fail(`Failed to read config file: ${file}: No such file or directory`, 1);
      process.stderr.write(`Parsing config from ${file}\n`); // real xl writes it to stderr
      const cfg = parseCfg(readFileSync(file, "utf8"));
      if (!cfg.name) fail("Domain name must be specified.", 1);
      if (all[cfg.name]) fail(`libxl: error: libxl_create.c:675:libxl__domain_make: Domain ${cfg.name}: domain name already exists`, 1);
      if (cfg.kernel && !existsSync(cfg.kernel)) fail(`libxl: error: libxl_dom.c:387:libxl__build_pv: kernel ${cfg.kernel}: No such file or directory`, 1);
      const target = /target=(\S+)$/.exec(cfg.disk?.[0] ?? "")?.[1] ?? /^phy:([^,]+)/.exec(cfg.disk?.[0] ?? "")?.[1];
      if (!target || !deviceLv(target)) fail(`libxl: error: libxl_device.c:397:libxl__device_disk_set_backend: Disk vdev=xvda failed to stat: ${target}: No such file or directory`, 1);
      const vifs = (cfg.vif ?? []).map((v) => Object.fromEntries(v.split(",").map((kv) => kv.trim().split("="))));
      if (vifs.some((v) => !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v.mac ?? ""))) fail("Invalid mac address in vif spec", 1);
      const id = load("xen/nextid", 1);
      save("xen/nextid", id + 1);
      all[cfg.name] = { id, memory: cfg.memory, vcpus: cfg.vcpus, state: "-b----", disk: target, vifs, weight: cfg.cpu_weight ?? 256, cap: cfg.cap ?? 0, configFile: file };
      return save("xen/domains", all);
    }
    case "sched-credit": {
      // Xen 4.17 runs credit2 by default (xl info: xen_scheduler : credit2); the credit1
      // command then fails like this (checked on a real Debian 12 dom0).
      const { opts } = parseArgs(rest, ["-d", "-w", "-c"]);
      if (!all[opts.d]) invalid(opts.d);
      fail(`libxl: error: libxl_sched.c:232:sched_credit_domain_set: Domain ${all[opts.d].id}:Getting domain sched credit: Invalid argument\nlibxl_domain_sched_params_set failed.`, 1);
      return;
    }
    case "shutdown":
    case "destroy": {
      const name = rest.filter((a) => !a.startsWith("-"))[0];
      if (!all[name]) invalid(name);
      if (cmd === "shutdown" && all[name].ignoresShutdown) {
        // A guest that ignores the request: `-w` waits until someone gives up (timeout(1) in the plan).
        out(`Shutting down domain ${all[name].id}\nWaiting for 1 domains`);
        if (rest.includes("-w")) setInterval(() => {}, 1 << 30);
        return;
      }
      const id = all[name].id;
      if (cmd === "shutdown") {
        // As on a real dom0 (Xen 4.17): `-w` returns once the guest has shut down, while the
        // domain is still listed ("--ps--") until xl's own watcher destroys it
        // (on_poweroff = "destroy"); here it goes at the next `xl list`.
        all[name] = { ...all[name], state: "--ps--", dying: true };
        save("xen/domains", all);
        out(`Shutting down domain ${id}\nWaiting for 1 domains\nDomain ${id} has been shut down, reason code 0`);
        return;
      }
      const dying = all[name].dying;
      delete all[name];
      save("xen/domains", all);
      // A destroy racing xl's watcher fails on the half-removed devices (seen on a real dom0).
      if (dying) fail(`libxl: error: libxl_linux.c:119:libxl__hotplug_nic: Domain ${id}:unable to read script from /local/domain/0/backend/vif/${id}/0: No such file or directory\nlibxl: error: libxl_device.c:1261:device_hotplug: Domain ${id}:unable to get args/env to execute hotplug script for device /local/domain/0/backend/vif/${id}/0`, 1);
      return;
    }
    case "migrate": {
      const [name, host] = rest.filter((a) => !a.startsWith("-"));
      if (!all[name]) invalid(name);
      const target = peer(host);
      if (!target) fail(`ssh: Could not resolve hostname ${host}: Name or service not known\nmigration sender: Target failed to report ready, sending domain back.`, 1);
      const theirs = domains(target);
      if (theirs[name]) fail(`migration target: Ready to receive domain.\nlibxl: error: Domain ${name}: domain name already exists\nmigration sender: Target reports failure, domain left running here.`, 1);
      const [vg, lv] = all[name].disk.replace(/^\/dev\//, "").split("/");
      const theirLvm = JSON.parse(existsOr(path.join(target, "lvm/state.json"), '{"lvs":{}}'));
      if (!theirLvm.lvs[`${vg}/${lv}`]) fail(`migration target: Ready to receive domain.\nlibxl: error: Disk vdev=xvda failed to stat: ${all[name].disk}: No such file or directory\nmigration sender: Target reports failure, domain left running here.`, 1);
      const nextFile = path.join(target, "xen/nextid.json");
      const id = JSON.parse(existsOr(nextFile, "1"));
      theirs[name] = { ...all[name], id, state: "-b----" };
      // Writing the peer's state directly: the emulator's stand-in for `xl migrate-receive` over ssh.
      save(path.relative(process.env.EMU_STATE, path.join(target, "xen/domains")), theirs);
      save(path.relative(process.env.EMU_STATE, path.join(target, "xen/nextid")), id + 1);
      delete all[name];
      save("xen/domains", all);
      out(
        [
          "migration target: Ready to receive domain.",
          "Saving to migration stream new xl format (info 0x3/0x0/1234)",
          `Loading new save file <incoming migration stream> (new xl fmt info 0x3/0x0/1234)`,
          " Savefile contains xl domain config in JSON format",
          "migration target: Transfer complete, requesting permission to start domain.",
          "migration sender: Target has acknowledged transfer.",
          "migration sender: Giving target permission to start.",
          "migration target: Got permission, starting domain.",
          "migration target: Domain started successsfully.",
          "migration sender: Target reports successful startup.",
          "Migration successful.",
        ].join("\n"),
      );
      return;
    }
    default:
      fail(`xl: unknown or unsupported (by this emulator) command '${cmd}'`, 1);
  }
}

/** The running domain that answers on `address` (its disk's interfaces file names it), with its root directory; null when none does. */
export function domainAt(address) {
  for (const [name, d] of Object.entries(load("xen/domains", {}))) {
    const lv = deviceLv(d.disk);
    if (!lv) continue;
    const root = lvData(...lv);
    const file = path.join(root, "etc/network/interfaces");
    if (existsSync(file) && readFileSync(file, "utf8").split("\n").some((l) => l.trim().startsWith(`address ${address}/`))) return { name, domain: d, root };
  }
  return null;
}

/** `nc -z -w N ADDRESS PORT`: exit 0 when a running domain answers on ADDRESS (port 22: sshd). */
export function nc(args) {
  const { rest } = parseArgs(args, ["-w"]);
  const found = domainAt(rest[0]);
  if (!found) process.exit(1);
  // Port 5432 answers where the database recipe set PostgreSQL up (./postgres.mjs); other ports as SSH does.
  if (rest[1] === "5432" && !postgresListens(found.root)) process.exit(1);
}

/**
 * What `ssh root@GUEST COMMAND` runs inside an emulated domain (dom0 putting a service IP on
 * its guest): `ip addr replace|del IP/32 dev ethN`, `arping -U ...`, and `cp /dev/stdin FILE`
 * (written into the domain's disk). The domain's service IPs are kept in its record.
 */
export function guestCommand(address, argv) {
  const found = domainAt(address);
  if (!found) fail(`ssh: connect to host ${address} port 22: No route to host`, 255);
  const all = load("xen/domains", {});
  const d = all[found.name];
  const device = (dev) => {
    const m = /^eth(\d+)$/.exec(dev ?? "");
    if (!m || Number(m[1]) >= (d.vifs ?? []).length) fail(`Cannot find device "${dev}"`, 1);
  };
  const [cmd, ...rest] = argv;
  if (cmd === "ip" && rest[0] === "addr" && (rest[1] === "replace" || rest[1] === "del") && rest[3] === "dev") {
    device(rest[4]);
    const held = new Set(d.serviceIps ?? []);
    const ip = rest[2].split("/")[0];
    if (rest[1] === "replace") held.add(ip);
    else if (!held.delete(ip)) fail("RTNETLINK answers: Cannot assign requested address", 2);
    all[found.name] = { ...d, serviceIps: [...held].sort() };
    return save("xen/domains", all);
  }
  if (cmd === "arping" && rest.includes("-U")) {
    device(rest[rest.indexOf("-I") + 1]);
    return out(`ARPING ${rest.at(-1)} from ${rest.at(-1)} ${rest[rest.indexOf("-I") + 1]}\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)`);
  }
  if (cmd === "cp" && rest[0] === "/dev/stdin" && rest[1]?.startsWith("/etc/")) {
    const file = path.join(found.root, rest[1]);
    mkdirSync(path.dirname(file), { recursive: true });
    return writeFileSync(file, readFileSync(0));
  }
  fail(`sh: ${cmd}: not found (in this test emulator's guest)`, 127);
}
