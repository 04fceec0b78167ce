/**
 * TEST EMULATOR, NOT THE REAL TOOLS: what the portal runs inside a guest's files for an order's
 * accounts and recipe. `chroot DIR PROG ...` on a Xen dom0 (into a guest's mounted root) and the
 * same programs through `zlogin` in a zone: groupadd, useradd (lines in the root's etc/group and
 * etc/passwd, as the real ones write them, and the same refusals: exit 9 "already exists", 6
 * "group ... does not exist"), chown/chgrp (the user or group must exist; nothing is changed:
 * the emulator runs unprivileged), chmod, mkdir -p, `systemctl enable` (the unit's link under
 * etc/systemd/system/multi-user.target.wants), `svcadm enable -s` and `svcs -H -o state FMRI`
 * (a zone's services in zones.json). `wget -q -O - URL` on a dom0 answers for a running domain
 * whose disk has that address and nginx enabled, with its /var/www/html/index.html.
 * Nothing runs a guest or a web server.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { deviceLv, lvData } from "./lvm.mjs";
import { fail, load, out } from "./state.mjs";
import { postgresInGuest } from "./postgres.mjs";

const lines = (file) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
const inRoot = (root, p) => {
  if (!p?.startsWith("/") || p.split("/").includes("..")) fail(`emulator: path ${p} is not absolute or leads out`, 2);
  return path.join(root, p);
};

function option(args, flag) {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function groupadd(root, args) {
  const name = args.at(-1);
  const gid = option(args, "-g");
  const file = path.join(root, "etc/group");
  const groups = lines(file).map((l) => l.split(":"));
  if (groups.some((g) => g[0] === name)) fail(`groupadd: group '${name}' already exists`, 9);
  if (gid && groups.some((g) => g[2] === gid)) fail(`groupadd: GID '${gid}' already exists`, 4);
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, `${name}:x:${gid ?? 1000 + groups.length}:\n`);
}

function useradd(root, args) {
  const name = args.at(-1);
  const passwdFile = path.join(root, "etc/passwd");
  const groupFile = path.join(root, "etc/group");
  if (lines(passwdFile).some((l) => l.split(":")[0] === name)) fail(`useradd: user '${name}' already exists`, 9);
  const groups = lines(groupFile).map((l) => l.split(":"));
  const primary = option(args, "-g");
  const group = groups.find((g) => g[0] === primary || g[2] === primary);
  if (!group) fail(`useradd: group '${primary}' does not exist`, 6);
  const extra = (option(args, "-G") ?? "").split(",").filter(Boolean);
  for (const g of extra) if (!groups.some((x) => x[0] === g)) fail(`useradd: group '${g}' does not exist`, 6);
  const home = option(args, "-d") ?? `/home/${name}`;
  appendFileSync(passwdFile, `${name}:x:${option(args, "-u")}:${group[2]}::${home}:${option(args, "-s") ?? "/bin/sh"}\n`);
  writeFileSync(groupFile, groups.map((g) => (extra.includes(g[0]) ? [...g.slice(0, 3), [g[3], name].filter(Boolean).join(",")] : g).join(":")).join("\n") + "\n");
  if (args.includes("-m")) mkdirSync(inRoot(root, home), { recursive: true });
}

/** Accounts and groups the golden images have before any order (the emulated roots start without /etc/passwd). */
const systemNames = new Set(["root", "daemon", "bin", "sys", "adm", "www-data", "webservd", "nobody", "staff", "other"]);

function owner(root, args, prog) {
  const [who, target] = args.filter((a) => !a.startsWith("-"));
  const [user, group] = prog === "chgrp" ? [null, who] : who.split(":");
  if (user && !systemNames.has(user) && !lines(path.join(root, "etc/passwd")).some((l) => l.split(":")[0] === user)) fail(`${prog}: invalid user: '${who}'`, 1);
  if (group && !systemNames.has(group) && !lines(path.join(root, "etc/group")).some((l) => l.split(":")[0] === group)) fail(`${prog}: invalid group: '${who}'`, 1);
  if (!existsSync(inRoot(root, target))) fail(`${prog}: cannot access '${target}': No such file or directory`, 1);
}

/** One program run in a guest root; true when it is one of these, false otherwise. */
export function inGuest(root, prog, args, services) {
  // The database recipe's programs (./postgres.mjs).
  if (postgresInGuest(root, prog, args, services)) return true;
  if (prog === "groupadd") return groupadd(root, args), true;
  if (prog === "useradd") return useradd(root, args), true;
  if (prog === "chown" || prog === "chgrp") return owner(root, args, prog), true;
  if (prog === "chmod") {
    if (!existsSync(inRoot(root, args.at(-1)))) fail(`chmod: cannot access '${args.at(-1)}': No such file or directory`, 1);
    return true;
  }
  if (prog === "mkdir" && args[0] === "-p") return mkdirSync(inRoot(root, args[1]), { recursive: true }), true;
  if (prog === "systemctl" && args[0] === "enable") {
    const unit = args[1];
    if (!/^[a-z0-9@_.-]+\.service$/.test(unit)) fail(`Failed to enable unit: Unit file ${unit} does not exist.`, 1);
    const wants = path.join(root, "etc/systemd/system/multi-user.target.wants");
    mkdirSync(wants, { recursive: true });
    writeFileSync(path.join(wants, unit), `/lib/systemd/system/${unit}\n`);
    process.stderr.write(`Created symlink /etc/systemd/system/multi-user.target.wants/${unit} → /lib/systemd/system/${unit}.\n`);
    return true;
  }
  if (prog === "svcadm" && services && args[0] === "enable") {
    services[args.at(-1)] = "online";
    return true;
  }
  return false;
}

export function chroot(args) {
  const [dir, prog, ...rest] = args;
  if (!dir || !existsSync(dir)) fail(`chroot: cannot change root directory to '${dir}': No such file or directory`, 125);
  if (!inGuest(dir, prog, rest, null)) fail(`chroot: ${prog}: not supported by this test emulator`, 127);
}

/** `wget -q -O - [-T N] http://IP/`: the index page of a running domain with that address and nginx enabled. */
export function wget(args) {
  const url = args.find((a) => /^https?:\/\//.test(a));
  const m = url && /^http:\/\/([\d.]+)(\/.*)?$/.exec(url);
  if (!m) fail(`wget: bad address '${url}'`, 1);
  for (const d of Object.values(load("xen/domains", {}))) {
    const lv = deviceLv(d.disk);
    if (!lv) continue;
    const disk = lvData(...lv);
    const ifaces = path.join(disk, "etc/network/interfaces");
    if (!existsSync(ifaces) || !readFileSync(ifaces, "utf8").split("\n").some((l) => l.trim().startsWith(`address ${m[1]}/`))) continue;
    if (!existsSync(path.join(disk, "etc/systemd/system/multi-user.target.wants/nginx.service"))) fail(`wget: can't connect to remote host (${m[1]}): Connection refused`, 4);
    const page = path.join(disk, "var/www/html", (m[2] ?? "/") === "/" ? "index.html" : m[2]);
    if (!existsSync(page)) fail("wget: server returned error: HTTP/1.1 404 Not Found", 8);
    return out(readFileSync(page, "utf8"));
  }
  fail(`wget: can't connect to remote host (${m[1]}): No route to host`, 4);
}
