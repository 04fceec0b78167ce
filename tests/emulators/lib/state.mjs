/**
 * TEST EMULATORS, NOT THE REAL TOOLS. Shared state for the host emulators in ../bin (xl, LVM,
 * zonecfg, zoneadm, zfs, zlogin, ...), which stand in for a Xen dom0 and a Solaris 10 global
 * zone behind a real sshd in the tests. They answer like the real tools per
 * shared/reference/hypervisors.md (output formats, exit codes, error messages) and keep their
 * state in JSON files under $EMU_STATE. Nothing here runs a guest.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
