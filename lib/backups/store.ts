import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import { backupStoreDir } from "../env";

const compress = promisify(gzip);
const decompress = promisify(gunzip);

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
 * Compresses the disk copy into the store and returns its size and sha256 (of the compressed
 * file, as it lies in the store). Written under a temporary name and renamed, so a file in the
 * store is always complete.
 */
export async function writeBackupFile(file: string, bytes: Buffer): Promise<{ sizeBytes: number; sha256: string }> {
  const full = inStore(file);
  await mkdir(path.dirname(full), { recursive: true });
  const packed = await compress(bytes);
  const tmp = `${full}.${randomUUID()}.part`;
  try {
    await writeFile(tmp, packed, { mode: 0o600 });
    await rename(tmp, full);
  } finally {
    await rm(tmp, { force: true });
  }
  return { sizeBytes: packed.length, sha256: createHash("sha256").update(packed).digest("hex") };
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

/** The disk copy, decompressed; the caller has checked the checksum. */
export async function readBackupFile(file: string): Promise<Buffer> {
  return decompress(await readFile(inStore(file)));
}

export async function removeBackupFile(file: string): Promise<void> {
  await rm(inStore(file), { force: true });
}
