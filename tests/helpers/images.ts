/**
 * The guest images the QEMU tests boot: built once into a store shared by all test runs on
 * this machine (TEST_IMAGE_STORE, default <tmp>/portal-test-images) and reused while the
 * recipe and checksums match, like `npm run images:build`. A lock folder keeps two test files
 * from building at the same time.
 */
import { mkdirSync, rmdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalTransport } from "@/lib/drivers/transport/local";
import { buildAllImages, type BuildResult } from "@/lib/drivers/images/build";

export const testImageStore = path.resolve(process.env.TEST_IMAGE_STORE ?? path.join(os.tmpdir(), "portal-test-images"));

async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, ".build-lock");
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 3 minutes was left by a killed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmdirSync(lock);
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`image store ${dir} stayed locked`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmdirSync(lock);
  }
}

/** Builds (or reuses) the QEMU images in the shared test store. */
export function ensureTestImages(log: (line: string) => void = () => {}): Promise<BuildResult[]> {
  return withLock(testImageStore, () => buildAllImages(new LocalTransport(), testImageStore, { log }));
}
