import { gzipSync } from "node:zlib";

/**
 * The "newc" cpio format the Linux kernel unpacks as an initramfs (see the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst): per entry a 110-byte ASCII
 * header, the NUL-terminated name padded to 4 bytes, the data padded to 4 bytes; a
 * "TRAILER!!!" entry ends the archive. Written here so that building a guest's initramfs needs
 * neither a shell pipeline nor root (device nodes are just header fields).
 */
export type CpioEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: Buffer | string; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "char"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function entryBytes(ino: number, name: string, mode: number, data: Buffer, rdev: { major: number; minor: number } = { major: 0, minor: 0 }, mtime = 0): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, "utf8");
  const header = Buffer.from(
    "070701" +
      [ino, mode, 0, 0, mode & S_IFDIR ? 2 : 1, mtime, data.length, 0, 0, rdev.major, rdev.minor, nameBytes.length, 0].map(hex8).join(""),
    "ascii",
  );
  return Buffer.concat([header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)]);
}

/** A newc archive of `entries` (paths without a leading slash; parents listed first). */
export function cpioNewc(entries: readonly CpioEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    if (!name || name.split("/").some((p) => p === ".." || p === "")) throw new Error(`cpio: bad path ${JSON.stringify(e.path)}`);
    switch (e.type) {
      case "dir":
        parts.push(entryBytes(ino++, name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0), undefined, mtime));
        break;
      case "file":
        parts.push(entryBytes(ino++, name, S_IFREG | (e.mode ?? 0o644), Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, "utf8"), undefined, mtime));
        break;
      case "symlink":
        parts.push(entryBytes(ino++, name, S_IFLNK | 0o777, Buffer.from(e.target, "utf8"), undefined, mtime));
        break;
      case "char":
        parts.push(entryBytes(ino++, name, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), { major: e.major, minor: e.minor }, mtime));
        break;
    }
  }
  parts.push(entryBytes(0, "TRAILER!!!", 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** gzip'd newc archive, the form the kernel takes as (part of) an initrd. */
export function gzipCpio(entries: readonly CpioEntry[], mtime = 0): Buffer {
  return gzipSync(cpioNewc(entries, mtime), { level: 6 });
}

/** Every directory a set of file paths needs, parents first (cpio needs them listed). */
export function parentDirs(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.replace(/^\/+/, "").split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return [...dirs].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}
