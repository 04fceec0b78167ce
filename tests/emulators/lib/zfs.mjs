/**
 * TEST EMULATOR, NOT THE REAL TOOL: `zfs` (create, get, set, snapshot, rollback, clone, destroy,
 * list, send, receive). A dataset is a directory at its mountpoint; a snapshot is a copy kept under
 * $EMU_STATE/zfs/snapshots. `zfs send` writes a JSON stream of the snapshot's files.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { STATE, copyDir, fail, load, out, packTree, parseArgs, readPacked, save, unpackTree } from "./state.mjs";
import { zfsSpace } from "./usage.mjs";

const initial = () => ({ datasets: { rpool: { mountpoint: "/rpool", origin: null } }, snapshots: {} });
export const zfsLoad = () => load("zfs/state", initial());
export const zfsSave = (s) => save("zfs/state", s);
const snapDir = (snap) => path.join(STATE, "zfs/snapshots", snap.replace(/[/@]/g, "_"));

const cannotOpen = (ds) => fail(`cannot open '${ds}': dataset does not exist`, 1);

export function datasetAt(mountpoint) {
  const s = zfsLoad();
  return Object.entries(s.datasets).find(([, d]) => d.mountpoint === mountpoint)?.[0] ?? null;
}

export function createDataset(s, name, mountpoint, origin = null) {
  const parent = name.split("/").slice(0, -1).join("/");
  if (!s.datasets[parent]) fail(`cannot create '${name}': parent does not exist`, 1);
  if (s.datasets[name]) fail(`cannot create '${name}': dataset already exists`, 1);
  const mp = mountpoint ?? path.join(s.datasets[parent].mountpoint, name.split("/").pop());
  s.datasets[name] = { mountpoint: mp, origin };
  mkdirSync(mp, { recursive: true });
  return mp;
}

export function zfs(args) {
  const [cmd, ...rest] = args;
  const s = zfsLoad();
  switch (cmd) {
    case "create": {
      const { opts, rest: names } = parseArgs(rest, ["-o"]);
      const mp = typeof opts.o === "string" && opts.o.startsWith("mountpoint=") ? opts.o.slice(11) : undefined;
      createDataset(s, names[0], mp);
      return zfsSave(s);
    }
    case "get": {
      const { opts, rest: r } = parseArgs(rest, ["-o"]);
      const [prop, ds] = r;
      if (!s.datasets[ds]) cannotOpen(ds);
      if (/^(used|available)(,|$)/.test(prop)) return out(zfsSpace(prop, s.datasets[ds]));
      const value = prop === "mountpoint" ? s.datasets[ds].mountpoint : prop === "origin" ? (s.datasets[ds].origin ?? "-") : "-";
      return out(opts.o === "value" ? value : `${ds}\t${prop}\t${value}\t-`);
    }
    case "set": {
      const [kv, ds] = rest;
      if (!s.datasets[ds]) cannotOpen(ds);
      const [k, v] = kv.split("=", 2);
      if (k === "quota") {
        if (!/^\d+[kmgt]?$/i.test(v)) fail(`cannot set property for '${ds}': 'quota' is invalid`, 1);
        s.datasets[ds].quota = v;
        return zfsSave(s);
      }
      if (k !== "mountpoint") fail(`cannot set property for '${ds}': emulator knows only mountpoint and quota`, 1);
      const old = s.datasets[ds].mountpoint;
      if (old !== v) {
        mkdirSync(path.dirname(v), { recursive: true });
        if (existsSync(v)) rmSync(v, { recursive: true });
        renameSync(old, v);
        s.datasets[ds].mountpoint = v;
      }
      return zfsSave(s);
    }
    case "snapshot": {
      const snap = rest[0];
      const [ds] = snap.split("@");
      if (!s.datasets[ds]) cannotOpen(ds);
      if (s.snapshots[snap]) fail(`cannot create snapshot '${snap}': dataset already exists`, 1);
      s.snapshots[snap] = { created: Date.now() };
      copyDir(s.datasets[ds].mountpoint, snapDir(snap));
      return zfsSave(s);
    }
    case "rollback": {
      // Without -r only to the latest snapshot, like zfs rollback.
      const snap = rest.filter((a) => !a.startsWith("-"))[0];
      const [ds] = snap.split("@");
      if (!s.snapshots[snap]) cannotOpen(snap);
      // Snapshots are kept in the order they were taken.
      const names = Object.keys(s.snapshots);
      const newer = names.slice(names.indexOf(snap) + 1).filter((n) => n.startsWith(`${ds}@`));
      if (newer.length && !rest.includes("-r")) fail(`cannot rollback to '${snap}': more recent snapshots or bookmarks exist\nuse '-r' to force deletion of the following snapshots and bookmarks:\n${newer.join("\n")}`, 1);
      copyDir(snapDir(snap), s.datasets[ds].mountpoint);
      return zfsSave(s);
    }
    case "clone": {
      const { opts, rest: r } = parseArgs(rest, ["-o"]);
      const [snap, ds] = r;
      if (!s.snapshots[snap]) cannotOpen(snap);
      const mp = createDataset(s, ds, typeof opts.o === "string" ? opts.o.replace(/^mountpoint=/, "") : undefined, snap);
      copyDir(snapDir(snap), mp);
      return zfsSave(s);
    }
    case "destroy": {
      const { opts, rest: r } = parseArgs(rest);
      const target = r[0];
      if (target.includes("@")) {
        if (!s.snapshots[target]) fail(`could not find any snapshots to destroy; check snapshot names.`, 1);
        const users = Object.entries(s.datasets).filter(([, d]) => d.origin === target).map(([n]) => n);
        if (users.length) fail(`cannot destroy '${target}': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\n${users.join("\n")}`, 1);
        delete s.snapshots[target];
        rmSync(snapDir(target), { recursive: true, force: true });
        return zfsSave(s);
      }
      if (!s.datasets[target]) cannotOpen(target);
      const children = Object.keys(s.datasets).filter((n) => n.startsWith(`${target}/`));
      const snaps = Object.keys(s.snapshots).filter((n) => n.startsWith(`${target}@`));
      if (!opts.r && (children.length || snaps.length)) fail(`cannot destroy '${target}': filesystem has children\nuse '-r' to destroy the following datasets:\n${[...children, ...snaps].join("\n")}`, 1);
      for (const snap of snaps) {
        delete s.snapshots[snap];
        rmSync(snapDir(snap), { recursive: true, force: true });
      }
      for (const n of [...children, target]) {
        rmSync(s.datasets[n].mountpoint, { recursive: true, force: true });
        delete s.datasets[n];
      }
      return zfsSave(s);
    }
    case "list": {
      const { opts } = parseArgs(rest, ["-o"]);
      const fields = (opts.o ?? "name,used,avail,mountpoint").split(",");
      const rows = Object.entries(s.datasets).map(([name, d]) => ({ name, used: 1024 ** 3, avail: 200 * 1024 ** 3, mountpoint: d.mountpoint, origin: d.origin ?? "-" }));
      if (!opts.H) out(fields.map((f) => f.toUpperCase()).join("\t"));
      return out(rows.map((r) => fields.map((f) => r[f]).join("\t")).join("\n"));
    }
    case "send": {
      const snap = rest.filter((a) => !a.startsWith("-"))[0];
      if (!s.snapshots[snap]) cannotOpen(snap);
      process.stdout.write(packTree(snapDir(snap), { emulatedZfsStream: 1, snapshot: snap }));
      return;
    }
    case "receive":
    case "recv": {
      const { opts, rest: r } = parseArgs(rest);
      const ds = r[0];
      const stream = readPacked("cannot receive: invalid stream (bad magic number)");
      if (!stream.emulatedZfsStream) fail("cannot receive: invalid stream (bad magic number)", 1);
      if (s.datasets[ds]) {
        if (!opts.F) fail(`cannot receive new filesystem stream: destination '${ds}' exists\nmust specify -F to overwrite it`, 1);
        rmSync(s.datasets[ds].mountpoint, { recursive: true, force: true });
        delete s.datasets[ds];
      }
      const mp = createDataset(s, ds, undefined);
      unpackTree(stream, mp);
      const snap = `${ds}@${stream.snapshot.split("@")[1]}`;
      s.snapshots[snap] = { created: Date.now() };
      copyDir(mp, snapDir(snap));
      return zfsSave(s);
    }
    default:
      fail(`unrecognized command '${cmd}' (zfs test emulator)`, 2);
  }
}
