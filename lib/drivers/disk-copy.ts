/**
 * Reading a stored disk copy (DiskCopy: gzip-compressed bytes from the backup store) on the
 * driver side: as an uncompressed stream for a host that wants the disk as it was, or whole
 * for the sim's tiny volume records. Nothing here holds a real disk in memory.
 */
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { StepError, type DiskCopy } from "./types";

/** The copy's uncompressed bytes as a stream; a broken file fails the stream. */
export function uncompressed(disk: DiskCopy): Readable {
  const out = new PassThrough();
  pipeline(disk.open(), createGunzip(), out).catch((e: Error) => out.destroy(new StepError(`the backup's file could not be read: ${e.message}`)));
  return out;
}

/** The whole uncompressed copy, refused past `limit` bytes (for records, not disks). */
export async function readSmallCopy(disk: DiskCopy, limit = 1024 ** 2): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of uncompressed(disk)) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new StepError(`the ${disk.format} copy is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
