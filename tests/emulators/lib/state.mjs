/**
 * TEST EMULATORS, NOT THE REAL TOOLS. Shared state for the host emulators in ../bin (xl, LVM,
 * zonecfg, zoneadm, zfs, zlogin, ...), which stand in for a Xen dom0 and a Solaris 10 global
 * zone behind a real sshd in the tests. They answer like the real tools per
 * shared/reference/hypervisors.md (output formats, exit codes, error messages) and keep their
 * state in JSON files under $EMU_STATE. Nothing here runs a guest.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

export const STATE = process.env.EMU_STATE;
if (!STATE) {
  process.stderr.write("emulator: EMU_STATE is not set (these are test emulators, not the real tools)\n");
  process.exit(2);
}

export function load(name, fallback) {
  const file = path.join(STATE, `${name}.json`);
  if (!existsSync(file)) return fallback;
  return JSON.parse(readFileSync(file, "utf8"));
}

export function save(name, value) {
  const file = path.join(STATE, `${name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function fail(message, code = 1) {
  process.stderr.write(message.endsWith("\n") ? message : `${message}\n`);
  process.exit(code);
}

/** A warning on stderr; the command goes on (LVM's "Reducing COW size ..."). */
export function warn(text) {
  process.stderr.write(`${text}\n`);
}

export function out(text) {
  process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
}

export function copyDir(from, to) {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(path.dirname(to), { recursive: true });
  if (existsSync(from)) cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  else mkdirSync(to, { recursive: true });
}

/** Host facts (CPUs, memory) from $EMU_STATE/host.json. */
export function facts() {
  return { cpus: 8, memoryMb: 16384, hostname: "emulated-host", ...load("host", {}) };
}

/** Other emulated hosts by the address one host uses for the other: $EMU_STATE/peers.json. */
export function peer(address) {
  return load("peers", {})[address] ?? null;
}

/** Minimal getopt: flags that take a value are listed in `withValue`. */
export function parseArgs(args, withValue = []) {
  const opts = {};
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--") && a.length > 2) {
      const [k, v] = a.slice(2).split("=", 2);
      if (v !== undefined) opts[k] = v;
      else if (withValue.includes(`--${k}`)) opts[k] = args[++i];
      else opts[k] = true;
    } else if (a.startsWith("-") && a.length > 1) {
      if (withValue.includes(a)) opts[a.slice(1)] = args[++i];
      else for (const c of a.slice(1)) opts[c] = true;
    } else rest.push(a);
  }
  return { opts, rest };
}

/**
 * A directory's files as one JSON stream (path, mode, base64 content): what the emulators send
 * where the real tools send blocks or a ZFS stream (`dd if=/dev/VG/LV`, `zfs send`).
 */
export function packTree(dir, header = {}) {
  const files = {};
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else files[path.relative(dir, full)] = { mode: st.mode & 0o7777, data: readFileSync(full).toString("base64") };
    }
  };
  if (existsSync(dir)) walk(dir);
  return JSON.stringify({ ...header, files });
}

/** Reads a packTree stream from standard input; fails like the real tool on anything else. */
export function readPacked(what) {
  try {
    const stream = JSON.parse(readFileSync(0, "utf8"));
    if (stream && typeof stream.files === "object") return stream;
  } catch {
    // fall through
  }
  fail(what, 1);
}

/** Replaces `dir`'s content by the stream's files. */
export function unpackTree(stream, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [rel, f] of Object.entries(stream.files)) {
    if (rel.split("/").includes("..")) fail(`refusing path ${rel} in the stream`, 1);
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(f.data, "base64"));
    chmodSync(file, f.mode);
  }
}
