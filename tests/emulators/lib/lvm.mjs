/** TEST EMULATOR, NOT THE REAL TOOL: lvcreate, lvremove, lvrename, lvs, vgs, mkfs.ext4, dd on /dev/VG/LV. */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { STATE, copyDir, fail, load, out, packTree, parseArgs, readPacked, save, unpackTree, warn } from "./state.mjs";

// $EMU_STATE/lvm may be a symlink to a directory shared by two hosts (a SAN volume group).
const LVM = path.join(STATE, "lvm");
const lvmLoad = () => load("lvm/state", { vgs: { vg0: { size: 500 * 1024 ** 3 } }, lvs: {} });
const lvmSave = (s) => save("lvm/state", s);
export const lvData = (vg, lv) => path.join(LVM, "data", vg, lv);

function bytes(size) {
  const m = /^(\d+(?:\.\d+)?)([bkmgtBKMGT]?)$/.exec(size ?? "");
  if (!m) fail(`  Invalid argument for --size: ${size}`, 3);
  const unit = { "": 1024 ** 2, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase()];
  return Math.round(Number(m[1]) * unit);
}

/** LVM's sizes in messages: "10.00 GiB", "68.00 MiB". */
function human(n) {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(2)} MiB`;
}

/** /dev/VG/LV -> [vg, lv] if that LV exists, else null. */
export function deviceLv(device) {
  const m = /^\/dev\/([^/]+)\/([^/]+)$/.exec(device);
  if (!m) return null;
  return lvmLoad().lvs[`${m[1]}/${m[2]}`] ? [m[1], m[2]] : null;
}

function inUse(vg, lv) {
  const domains = load("xen/domains", {});
  return Object.values(domains).some((d) => d.disk === `/dev/${vg}/${lv}`);
}

export function lvcreate(args) {
  const { opts, rest } = parseArgs(args, ["-L", "-n", "--size", "--name"]);
  const name = opts.n ?? opts.name;
  let size = bytes(opts.L ?? opts.size);
  const s = lvmLoad();
  if (!name) fail("  Please specify a logical volume name with -n", 3);
  let vg;
  let origin = null;
  if (opts.s || opts.snapshot) {
    const [ovg, olv] = (rest[0] ?? "").split("/");
    if (!s.lvs[`${ovg}/${olv}`]) fail(`  Failed to find logical volume "${rest[0]}"`, 5);
    vg = ovg;
    origin = olv;
  } else {
    vg = rest[0];
    if (!s.vgs[vg]) fail(`  Volume group "${vg}" not found\n  Cannot process volume group ${vg}`, 5);
  }
  if (s.lvs[`${vg}/${name}`]) fail(`  Logical Volume "${name}" already exists in volume group "${vg}"`, 5);
  // Real LVM (checked on a Debian 12 dom0): a snapshot never gets more copy-on-write room than
  // its origin can fill; a larger -L is cut down with a warning on stderr, exit 0
  // (64 MiB origin, -L 10G: "Reducing COW size 10.00 GiB down to maximum usable size 68.00 MiB.").
  if (origin) {
    const max = Math.ceil((s.lvs[`${vg}/${origin}`].size * 1.0625) / 4194304) * 4194304;
    if (size > max) {
      warn(`  Reducing COW size ${human(size)} down to maximum usable size ${human(max)}.`);
      size = max;
    }
  }
  const used = Object.entries(s.lvs).filter(([k]) => k.startsWith(`${vg}/`)).reduce((a, [, v]) => a + v.size, 0);
  if (used + size > s.vgs[vg].size) fail(`  Volume group "${vg}" has insufficient free space (${Math.floor((s.vgs[vg].size - used) / 4194304)} extents): ${Math.ceil(size / 4194304)} required.`, 5);
  s.lvs[`${vg}/${name}`] = { size: origin ? s.lvs[`${vg}/${origin}`].size : size, cow: origin ? size : 0, origin };
  lvmSave(s);
  if (origin) copyDir(lvData(vg, origin), lvData(vg, name));
  else copyDir("/nonexistent", lvData(vg, name));
  out(`  Logical volume "${name}" created.`);
}

export function lvremove(args) {
  const { rest } = parseArgs(args);
  const s = lvmLoad();
  for (const target of rest) {
    const [vg, lv] = target.replace(/^\/dev\//, "").split("/");
    if (!s.lvs[`${vg}/${lv}`]) fail(`  Failed to find logical volume "${vg}/${lv}"`, 5);
    if (inUse(vg, lv)) fail(`  Logical volume ${vg}/${lv} in use.`, 5);
    delete s.lvs[`${vg}/${lv}`];
    lvmSave(s);
    rmSync(lvData(vg, lv), { recursive: true, force: true });
    out(`  Logical volume "${lv}" successfully removed.`);
  }
}

/**
 * `lvrename VG OLD NEW` or `lvrename VG/OLD VG/NEW`: the volume, its files and its snapshots'
 * origin follow the new name (as LVM allows, also while it is open).
 */
export function lvrename(args) {
  const { rest } = parseArgs(args);
  const names = rest.map((a) => a.replace(/^\/dev\//, ""));
  let vg, from, to;
  if (names.length === 3) [vg, from, to] = names;
  else if (names.length === 2 && names[0].includes("/")) {
    [vg, from] = names[0].split("/");
    to = names[1].includes("/") ? names[1].split("/")[1] : names[1];
    if (names[1].includes("/") && names[1].split("/")[0] !== vg) fail(`  Old and new volume group names need to match.`, 3);
  } else fail("  Old and new logical volume names required", 3);
  const s = lvmLoad();
  if (!s.vgs[vg]) fail(`  Volume group "${vg}" not found\n  Cannot process volume group ${vg}`, 5);
  if (!s.lvs[`${vg}/${from}`]) fail(`  Existing logical volume "${from}" not found in volume group "${vg}"`, 5);
  if (s.lvs[`${vg}/${to}`]) fail(`  Logical Volume "${to}" already exists in volume group "${vg}"`, 5);
  s.lvs[`${vg}/${to}`] = s.lvs[`${vg}/${from}`];
  delete s.lvs[`${vg}/${from}`];
  for (const v of Object.values(s.lvs)) if (v.origin === from && s.lvs[`${vg}/${to}`] !== v) v.origin = to;
  lvmSave(s);
  mkdirSync(lvData(vg, from), { recursive: true });
  rmSync(lvData(vg, to), { recursive: true, force: true });
  renameSync(lvData(vg, from), lvData(vg, to));
  out(`  Renamed "${from}" to "${to}" in volume group "${vg}"`);
}

function table(rows, fields, opts, header) {
  const sep = opts.separator;
  if (!opts.noheadings) out(`  ${fields.map((f) => header[f] ?? f).join(sep ?? "  ")}`);
  for (const r of rows) out(`  ${fields.map((f) => String(r[f] ?? "")).join(sep ?? "  ")}`);
}

/** lvs's lv_size: a snapshot's is its copy-on-write room, not its origin's size (as real LVM reports it). */
const lvSize = (v) => (v.origin ? v.cow : v.size);

export function lvs(args) {
  const { opts, rest } = parseArgs(args, ["-o", "--options", "--units", "--separator"]);
  const fields = (opts.o ?? opts.options ?? "lv_name,vg_name,lv_size,origin").split(",");
  const s = lvmLoad();
  const rows = [];
  const wanted = rest.length ? rest : Object.keys(s.vgs);
  for (const w of wanted) {
    const [vg, lv] = w.split("/");
    if (lv) {
      const v = s.lvs[`${vg}/${lv}`];
      if (!v) fail(`  Failed to find logical volume "${vg}/${lv}"`, 5);
      rows.push({ lv_name: lv, vg_name: vg, lv_size: lvSize(v), origin: v.origin ?? "" });
    } else {
      if (!s.vgs[vg]) fail(`  Volume group "${vg}" not found`, 5);
      for (const [k, v] of Object.entries(s.lvs)) if (k.startsWith(`${vg}/`)) rows.push({ lv_name: k.split("/")[1], vg_name: vg, lv_size: lvSize(v), origin: v.origin ?? "" });
    }
  }
  table(rows, fields, opts, { lv_name: "LV", vg_name: "VG", lv_size: "LSize", origin: "Origin" });
}

export function vgs(args) {
  const { opts, rest } = parseArgs(args, ["-o", "--options", "--units", "--separator"]);
  const fields = (opts.o ?? opts.options ?? "vg_name,vg_size,vg_free").split(",");
  const s = lvmLoad();
  const rows = Object.entries(s.vgs)
    .filter(([vg]) => !rest.length || rest.includes(vg))
    .map(([vg, v]) => {
      const used = Object.entries(s.lvs).filter(([k]) => k.startsWith(`${vg}/`)).reduce((a, [, l]) => a + (l.origin ? l.cow : l.size), 0);
      return { vg_name: vg, vg_size: v.size, vg_free: v.size - used };
    });
  table(rows, fields, opts, { vg_name: "VG", vg_size: "VSize", vg_free: "VFree" });
}

export function mkfs(args) {
  const { rest } = parseArgs(args, ["-L"]);
  const dev = deviceLv(rest[0]);
  if (!dev) fail(`mke2fs: No such file or directory while trying to determine filesystem size`, 1);
  copyDir("/nonexistent", lvData(...dev));
}

/**
 * `dd if=/dev/VG/LV of=/dev/VG/LV`: a block copy. With only `if=`, the volume goes to standard
 * output; with only `of=`, standard input goes onto the volume (as a backup and its restore
 * do): the "blocks" are the volume's files as one JSON stream (state.mjs packTree).
 */
export function dd(args) {
  const kv = Object.fromEntries(args.map((a) => a.split("=", 2)));
  const from = deviceLv(kv.if ?? "");
  const to = deviceLv(kv.of ?? "");
  if (kv.if && !kv.of) {
    if (!from) fail(`dd: failed to open '${kv.if}': No such file or directory`, 1);
    process.stdout.write(packTree(lvData(...from), { emulatedVolume: `${from[0]}/${from[1]}` }));
    return;
  }
  if (kv.of && !kv.if) {
    if (!to) fail(`dd: failed to open '${kv.of}': No such file or directory`, 1);
    const stream = readPacked("dd: error writing: the input is not an emulated volume stream");
    if (!stream.emulatedVolume) fail("dd: error writing: the input is not an emulated volume stream", 1);
    unpackTree(stream, lvData(...to));
    return;
  }
  if (!from) fail(`dd: failed to open '${kv.if}': No such file or directory`, 1);
  if (!to) fail(`dd: failed to open '${kv.of}': No such file or directory`, 1);
  copyDir(lvData(...from), lvData(...to));
  const size = load("lvm/state", { lvs: {} }).lvs[`${from[0]}/${from[1]}`].size;
  process.stderr.write(`${size / 4194304}+0 records in\n${size / 4194304}+0 records out\n${size} bytes copied, 0.5 s, emulated\n`);
}

export function ensureLvmDir() {
  if (!existsSync(LVM)) mkdirSync(LVM, { recursive: true });
}

export function e2fsck(args) {
  const { rest } = parseArgs(args);
  const dev = deviceLv(rest[0] ?? "");
  if (!dev) fail(`e2fsck: No such file or directory while trying to open ${rest[0]}\nPossibly non-existent device?`, 8);
  out(`${dev[1]}: 11/655360 files (0.0% non-contiguous), 66753/2621440 blocks`);
}

export function resize2fs(args) {
  const { rest } = parseArgs(args);
  const dev = deviceLv(rest[0] ?? "");
  if (!dev) fail(`resize2fs: No such file or directory while trying to open ${rest[0]}\nCouldn't find valid filesystem superblock.`, 1);
  const size = load("lvm/state", { lvs: {} }).lvs[`${dev[0]}/${dev[1]}`].size;
  out(`resize2fs 1.47.0 (5-Feb-2023)\nResizing the filesystem on ${rest[0]} to ${size / 4096} (4k) blocks.\nThe filesystem on ${rest[0]} is now ${size / 4096} (4k) blocks long.`);
}

/** `lvconvert --merge VG/SNAP`: the origin gets the snapshot's content and the snapshot is gone; deferred while the origin is open. */
export function lvconvert(args) {
  const { opts, rest } = parseArgs(args);
  if (!opts.merge) fail("lvconvert: only --merge is emulated", 3);
  const [vg, lv] = (rest[0] ?? "").replace(/^\/dev\//, "").split("/");
  const s = lvmLoad();
  const snap = s.lvs[`${vg}/${lv}`];
  if (!snap) fail(`  Failed to find logical volume "${vg}/${lv}"`, 5);
  if (!snap.origin) fail(`  Command on LV ${vg}/${lv} does not accept LV type linear.`, 5);
  if (inUse(vg, snap.origin)) {
    out(`  Delaying merge since origin is open.\n  Merging of snapshot ${vg}/${lv} will occur on next activation of ${vg}/${snap.origin}.`);
    return;
  }
  copyDir(lvData(vg, lv), lvData(vg, snap.origin));
  rmSync(lvData(vg, lv), { recursive: true, force: true });
  delete s.lvs[`${vg}/${lv}`];
  lvmSave(s);
  out(`  Merging of volume ${vg}/${lv} started.\n  ${vg}/${snap.origin}: Merged: 100.00%`);
}

/** `lvextend -L SIZE VG/LV`: only grows. */
export function lvextend(args) {
  const { opts, rest } = parseArgs(args, ["-L", "--size"]);
  const [vg, lv] = (rest[0] ?? "").replace(/^\/dev\//, "").split("/");
  const s = lvmLoad();
  const v = s.lvs[`${vg}/${lv}`];
  if (!v) fail(`  Failed to find logical volume "${vg}/${lv}"`, 5);
  const size = bytes(opts.L ?? opts.size);
  const extents = (b) => Math.ceil(b / 4194304);
  if (size === v.size) fail(`  New size (${extents(size)} extents) matches existing size (${extents(v.size)} extents).`, 5);
  if (size < v.size) fail(`  New size given (${extents(size)} extents) not larger than existing size (${extents(v.size)} extents)`, 5);
  const old = v.size;
  v.size = size;
  lvmSave(s);
  out(`  Size of logical volume ${vg}/${lv} changed from ${old / 1024 ** 3} GiB (${extents(old)} extents) to ${size / 1024 ** 3} GiB (${extents(size)} extents).\n  Logical volume ${vg}/${lv} successfully resized.`);
}
