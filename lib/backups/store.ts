import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { DiskCopy } from "../drivers/types";
import { backupStoreDir } from "../env";

/** Where a backup's file lives inside the store: one folder per environment. */
export function backupFileName(environmentId: string, backupId: string, format: string): string {
  return path.join(environmentId, `${backupId}.${format}.gz`);
}

function inStore(file: string): string {
  const full = path.resolve(backupStoreDir, file);
  // Names come from our own ids, but a path outside the store is never read or written.
  if (!full.startsWith(backupStoreDir + path.sep)) throw new Error(`backup file ${file} is outside the backup store`);
  return full;
}

/**
 * Streams a disk copy into the store: through gzip unless it comes compressed, checksummed as
 * it is written, so the copy is never held whole in memory. Returns the compressed file's size
 * and sha256 (as it lies in the store). Written under a temporary name and renamed, so a file
 * in the store is always complete; a broken stream leaves nothing behind.
 */
export async function writeBackupFile(file: string, source: Readable, opts: { compressed: boolean }): Promise<{ sizeBytes: number; sha256: string }> {
  const full = inStore(file);
  await mkdir(path.dirname(full), { recursive: true });
  const hash = createHash("sha256");
  let sizeBytes = 0;
  const tally = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      done(null, chunk);
    },
  });
  const tmp = `${full}.${randomUUID()}.part`;
  try {
    const out = createWriteStream(tmp, { mode: 0o600 });
    if (opts.compressed) await pipeline(source, tally, out);
    else await pipeline(source, createGzip(), tally, out);
    await rename(tmp, full);
  } finally {
    await rm(tmp, { force: true });
  }
  return { sizeBytes, sha256: hash.digest("hex") };
}

/** The file's sha256 now (streamed), or null when the file is gone. */
export async function checksumOf(file: string): Promise<string | null> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(inStore(file))) hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  return hash.digest("hex");
}

/** A stored copy for a driver to stream (compressed, as stored); the caller has checked the checksum. */
export async function openBackupFile(file: string, format: string): Promise<DiskCopy> {
  const full = inStore(file);
  const { size } = await stat(full);
  return { format, sizeBytes: size, open: () => createReadStream(full) };
}

export async function removeBackupFile(file: string): Promise<void> {
  await rm(inStore(file), { force: true });
}
