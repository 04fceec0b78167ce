import { gunzipSync } from "node:zlib";

/**
 * Checks an uploaded site archive (.tar.gz) before it is kept with an order: gzip'd tar, only
 * regular files and folders, every path relative and without `..`, within limits. The guest
 * checks the listing again before it unpacks (its busybox tar would follow what it is given).
 * Returns what is wrong, in words for the order form, or null.
 */
export type TarballLimits = { maxBytes: number; maxUnpackedBytes: number; maxEntries: number };

export type TarEntry = { path: string; type: "file" | "dir"; size: number };

const BLOCK = 512;

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString("utf8");
}

function octal(block: Buffer, start: number, length: number): number {
  const s = field(block, start, length).trim();
  if (!/^[0-7]*$/.test(s)) return NaN;
  return s ? parseInt(s, 8) : 0;
}

/** `path=...` from a pax extended header's records ("LEN key=value\n"). */
function paxPath(data: Buffer): string | null {
  let at = 0;
  let found: string | null = null;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.subarray(at, space).toString("ascii"));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0 && record.slice(0, eq) === "path") found = record.slice(eq + 1);
    at += len;
  }
  return found;
}

export function pathProblem(p: string): string | null {
  if (!p) return "an entry has an empty name";
  if (/[\u0000-\u001f\u007f\\]/.test(p)) return `the name ${JSON.stringify(p.slice(0, 80))} holds control characters or backslashes`;
  if (p.startsWith("/")) return `${p.slice(0, 80)} is an absolute path`;
  if (p.split("/").includes("..")) return `${p.slice(0, 80)} leads out of the site's folder (..)`;
  return null;
}

/** The entries of a .tar.gz, or what is wrong with it. */
export function readTarball(archive: Buffer, limits: TarballLimits): { entries: TarEntry[] } | { problem: string } {
  if (archive.length > limits.maxBytes) return { problem: `the archive has ${archive.length} bytes; at most ${limits.maxBytes} are accepted` };
  if (archive.length < 2 || archive[0] !== 0x1f || archive[1] !== 0x8b) return { problem: "the file is not gzip-compressed (a .tar.gz is expected)" };
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: limits.maxUnpackedBytes + 64 * BLOCK });
  } catch (err) {
    return { problem: (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ? `the archive unpacks to more than ${limits.maxUnpackedBytes} bytes` : "the file is not a valid gzip archive" };
  }
  const entries: TarEntry[] = [];
  let at = 0;
  let longName: string | null = null;
  let unpacked = 0;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return { entries };
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (octal(header, 148, 8) !== sum) return { problem: "the file is not a tar archive (bad header checksum)" };
    const size = octal(header, 124, 12);
    if (!Number.isFinite(size) || size < 0) return { problem: "the tar archive has an entry with a bad size" };
    const type = String.fromCharCode(header[156]!);
    const dataStart = at + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    if (data.length < size) return { problem: "the tar archive is cut short" };
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === "x") {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === "g") continue;
    const prefix = field(header, 257, 6).startsWith("ustar") ? field(header, 345, 155) : "";
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = null;
    const clean = name.replace(/^\.\/+/, "").replace(/\/+$/, "");
    if (name !== "./" && name !== ".") {
      const problem = pathProblem(name.replace(/\/+$/, ""));
      if (problem) return { problem };
    }
    if (type === "0" || type === "\0" || type === "7") {
      unpacked += size;
      entries.push({ path: clean, type: "file", size });
    } else if (type === "5") {
      if (clean) entries.push({ path: clean, type: "dir", size: 0 });
    } else if (type === "1" || type === "2") {
      return { problem: `${clean.slice(0, 80)} is a link; only files and folders are accepted` };
    } else {
      return { problem: `${clean.slice(0, 80)} is a special file (type ${JSON.stringify(type)}); only files and folders are accepted` };
    }
    if (entries.length > limits.maxEntries) return { problem: `the archive has more than ${limits.maxEntries} entries` };
    if (unpacked > limits.maxUnpackedBytes) return { problem: `the archive unpacks to more than ${limits.maxUnpackedBytes} bytes` };
  }
  return at >= tar.length && entries.length ? { entries } : { problem: "the tar archive has no end (it is cut short)" };
}
