import { createHash } from "node:crypto";
import path from "node:path";
import { goldenFiles, type ManifestFile } from "./types";

/**
 * Layout of the image store (IMAGE_STORE_DIR, default DATA_DIR/images):
 *   golden/<slug>/{vmlinuz,initramfs.cpio.gz,disk.qcow2,manifest.json}  built by `npm run images:build` (the newest build)
 *   versions/<slug>/<build key>/{the same files}  every build kept (hard links), so an environment
 *                  can still be built from, or rolled back to, an older version of the image
 *   packed/<key>/{manifest.json, image.tar | disk.qcow2 vmlinuz initramfs.cpio.gz}  mk_image's output
 *   cache/  downloaded Debian packages and the unpacked kernel tree of the last build
 */
export const slugPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Keys of packed images: an environment's hostname plus something unique (e.g. order id). */
export const packKeyPattern = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export function checkSlug(slug: string): string {
  if (!slugPattern.test(slug)) throw new Error(`invalid image slug ${JSON.stringify(slug)}`);
  return slug;
}

export function goldenDir(store: string, slug: string): string {
  return path.join(store, "golden", checkSlug(slug));
}

/** The files of one image in `dir`: kernel, initramfs, disk and manifest. */
function imageFiles(dir: string) {
  return {
    dir,
    kernel: path.join(dir, goldenFiles.kernel),
    initramfs: path.join(dir, goldenFiles.initramfs),
    disk: path.join(dir, goldenFiles.disk),
    manifest: path.join(dir, goldenFiles.manifest),
  };
}

export function goldenPaths(store: string, slug: string) {
  return imageFiles(goldenDir(store, slug));
}

/** A build's key: the first 16 hex digits of the sha256 over its files' names and checksums. */
export const buildKeyPattern = /^[0-9a-f]{16}$/;

/** The key of a build with these files: the same checksums give the same key (and version). */
export function buildKeyOf(files: Record<string, ManifestFile>): string {
  const lines = Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, f]) => `${name} ${f.sha256} ${f.size}`);
  return createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
}

/** Where the store keeps one build of an image (`versions/<slug>/<key>/`). */
export function versionPaths(store: string, slug: string, key: string) {
  if (!buildKeyPattern.test(key)) throw new Error(`invalid build key ${JSON.stringify(key)}`);
  const dir = path.join(store, "versions", checkSlug(slug), key);
  return imageFiles(dir);
}

export function packedDir(store: string, key: string): string {
  if (!packKeyPattern.test(key)) throw new Error(`invalid pack key ${JSON.stringify(key)}`);
  return path.join(store, "packed", key);
}

export function cacheDir(store: string): string {
  return path.join(store, "cache");
}
