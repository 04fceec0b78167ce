import path from "node:path";
import { goldenFiles } from "./types";

/**
 * Layout of the image store (IMAGE_STORE_DIR, default DATA_DIR/images):
 *   golden/<slug>/{vmlinuz,initramfs.cpio.gz,disk.qcow2,manifest.json}  built by `npm run images:build`
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

export function goldenPaths(store: string, slug: string) {
  const dir = goldenDir(store, slug);
  return {
    dir,
    kernel: path.join(dir, goldenFiles.kernel),
    initramfs: path.join(dir, goldenFiles.initramfs),
    disk: path.join(dir, goldenFiles.disk),
    manifest: path.join(dir, goldenFiles.manifest),
  };
}

export function packedDir(store: string, key: string): string {
  if (!packKeyPattern.test(key)) throw new Error(`invalid pack key ${JSON.stringify(key)}`);
  return path.join(store, "packed", key);
}

export function cacheDir(store: string): string {
  return path.join(store, "cache");
}
