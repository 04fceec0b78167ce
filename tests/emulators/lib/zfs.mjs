/**
 * TEST EMULATOR, NOT THE REAL TOOL: `zfs` (create, get, set, snapshot, rollback, clone, destroy,
 * list, send, receive, rename). A dataset is a directory at its mountpoint (mountpoint=legacy: a
 * directory under $EMU_STATE/zfs/legacy, which a zone's `add fs` shows inside the zone while it
 * runs); a snapshot is a copy kept under $EMU_STATE/zfs/snapshots. `zfs send` writes a JSON
 * stream of the snapshot's files (with -R, its descendants' too).
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { STATE, copyDir, fail, load, out, packTree, parseArgs, readPacked, save, unpackTree } from "./state.mjs";
import { zfsSpace } from "./usage.mjs";

const initial = () => ({ datasets: { rpool: { mountpoint: "/rpool", origin: null } }, snapshots: {} });
export const zfsLoad = () => load("zfs/state", initial());
export const zfsSave = (s) => save("zfs/state", s);
const snapDir = (snap) => path.join(STATE, "zfs/snapshots", snap.replace(/[/@]/g, "_"));

const cannotOpen = (ds) => fail(`cannot open '${ds}': dataset does not exist`, 1);

/** Where a dataset's files are: its mountpoint, or its own directory when the mountpoint is legacy. */
export const dirOf = (d) => d.dir ?? d.mountpoint;
/** The dataset and its descendants, parents first. */
const family = (s, ds) => Object.keys(s.datasets).filter((n) => n === ds || n.startsWith(`${ds}/`)).sort();

function dropDataset(s, name) {
  for (const snap of Object.keys(s.snapshots).filter((n) => n.startsWith(`${name}@`))) {
    delete s.snapshots[snap];
    rmSync(snapDir(snap), { recursive: true, force: true });
  }
  rmSync(dirOf(s.datasets[name]), { recursive: true, force: true });
  delete s.datasets[name];
}

export function datasetAt(mountpoint) {
  const s = zfsLoad();
  return Object.entries(s.datasets).find(([, d]) => d.mountpoint === mountpoint)?.[0] ?? null;
}

export function createDataset(s, name, mountpoint, origin = null) {
  const parent = name.split("/").slice(0, -1).join("/");
  if (!s.datasets[parent]) fail(`cannot create '${name}': parent does not exist`, 1);
  if (s.datasets[name]) fail(`cannot create '${name}': dataset already exists`, 1);
  if (mountpoint === "legacy") {
    const dir = path.join(STATE, "zfs/legacy", randomUUID());
    s.datasets[name] = { mountpoint: "legacy", dir, origin };
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  const mp = mountpoint ?? path.join(dirOf(s.datasets[parent]), name.split("/").pop());
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
      if (v === "legacy" || s.datasets[ds].mountpoint === "legacy") fail(`cannot set property for '${ds}': the emulator does not switch legacy mountpoints`, 1);
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
      const { opts, rest: r } = parseArgs(rest);
      const snap = r[0];
      const [ds, tag] = snap.split("@");
      if (!s.datasets[ds]) cannotOpen(ds);
      // -r: the dataset and its descendants at one instant.
      const names = opts.r ? family(s, ds) : [ds];
      for (const n of names) if (s.snapshots[`${n}@${tag}`]) fail(`cannot create snapshot '${n}@${tag}': dataset already exists`, 1);
      for (const n of names) {
        s.snapshots[`${n}@${tag}`] = { created: Date.now() };
        copyDir(dirOf(s.datasets[n]), snapDir(`${n}@${tag}`));
      }
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
      copyDir(snapDir(snap), dirOf(s.datasets[ds]));
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
        const [ds, tag] = target.split("@");
        // -r: the snapshot of that name of the dataset and of each descendant that has one.
        const snaps = (opts.r && s.datasets[ds] ? family(s, ds) : [ds]).map((n) => `${n}@${tag}`).filter((n) => s.snapshots[n]);
        if (!snaps.length) fail(`could not find any snapshots to destroy; check snapshot names.`, 1);
        for (const snap of snaps) {
          const users = Object.entries(s.datasets).filter(([, d]) => d.origin === snap).map(([n]) => n);
          if (users.length) fail(`cannot destroy '${snap}': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\n${users.join("\n")}`, 1);
        }
        for (const snap of snaps) {
          delete s.snapshots[snap];
          rmSync(snapDir(snap), { recursive: true, force: true });
        }
        return zfsSave(s);
      }
      if (!s.datasets[target]) cannotOpen(target);
      const children = Object.keys(s.datasets).filter((n) => n.startsWith(`${target}/`));
      const snaps = Object.keys(s.snapshots).filter((n) => n.startsWith(`${target}@`));
      if (!opts.r && (children.length || snaps.length)) fail(`cannot destroy '${target}': filesystem has children\nuse '-r' to destroy the following datasets:\n${[...children, ...snaps].join("\n")}`, 1);
      for (const n of [...children.reverse(), target]) dropDataset(s, n);
      return zfsSave(s);
    }
    case "rename": {
      const [from, to] = rest;
      if (!s.datasets[from]) cannotOpen(from);
      if (s.datasets[to]) fail(`cannot rename to '${to}': dataset already exists`, 1);
      if (!s.datasets[to.split("/").slice(0, -1).join("/")]) fail(`cannot rename to '${to}': parent does not exist`, 1);
      if (s.datasets[from].mountpoint !== "legacy") fail(`cannot rename '${from}': the emulator renames only datasets with a legacy mountpoint`, 1);
      for (const n of family(s, from)) {
        const m = to + n.slice(from.length);
        s.datasets[m] = s.datasets[n];
        delete s.datasets[n];
        for (const snap of Object.keys(s.snapshots).filter((x) => x.startsWith(`${n}@`))) {
          const moved = m + snap.slice(n.length);
          s.snapshots[moved] = s.snapshots[snap];
          delete s.snapshots[snap];
          renameSync(snapDir(snap), snapDir(moved));
        }
      }
      return zfsSave(s);
    }
    case "list": {
      const { opts, rest: r } = parseArgs(rest, ["-o"]);
      const fields = (opts.o ?? "name,used,avail,mountpoint").split(",");
      if (r[0] && !s.datasets[r[0]]) cannotOpen(r[0]);
      const rows = Object.entries(s.datasets).filter(([name]) => !r[0] || name === r[0]).map(([name, d]) => ({ name, used: 1024 ** 3, avail: 200 * 1024 ** 3, mountpoint: d.mountpoint, origin: d.origin ?? "-" }));
      if (!opts.H) out(fields.map((f) => f.toUpperCase()).join("\t"));
      return out(rows.map((r) => fields.map((f) => r[f]).join("\t")).join("\n"));
    }
    case "send": {
      const snap = rest.filter((a) => !a.startsWith("-"))[0];
      if (!s.snapshots[snap]) cannotOpen(snap);
      const [ds, tag] = snap.split("@");
      // -R: a replication stream, the descendants' snapshots of that name and their mountpoints too.
      const children = rest.includes("-R")
        ? family(s, ds)
            .filter((n) => n !== ds && s.snapshots[`${n}@${tag}`])
            .map((n) => ({ name: n.slice(ds.length + 1), mountpoint: s.datasets[n].mountpoint, quota: s.datasets[n].quota, ...JSON.parse(packTree(snapDir(`${n}@${tag}`))) }))
        : [];
      process.stdout.write(packTree(snapDir(snap), { emulatedZfsStream: 1, snapshot: snap, children }));
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
        for (const n of family(s, ds).reverse()) dropDataset(s, n);
      }
      const tag = stream.snapshot.split("@")[1];
      for (const [name, part] of [[ds, stream], ...(stream.children ?? []).map((c) => [`${ds}/${c.name}`, c])]) {
        const dir = createDataset(s, name, part === stream ? undefined : part.mountpoint === "legacy" ? "legacy" : undefined);
        if (part.quota) s.datasets[name].quota = part.quota;
        unpackTree(part, dir);
        s.snapshots[`${name}@${tag}`] = { created: Date.now() };
        copyDir(dir, snapDir(`${name}@${tag}`));
      }
      return zfsSave(s);
    }
    default:
      fail(`unrecognized command '${cmd}' (zfs test emulator)`, 2);
  }
}
