// `npm run images:build`: builds the portal's QEMU Linux golden image from Debian packages
// (kernel via `apt-get download`, busybox-static, Dropbear and mke2fs, an /init of our own) and its
// database variant (the same plus Debian's PostgreSQL 15, when postgresql-15 is installed) into the image store
// (IMAGE_STORE_DIR, default DATA_DIR/images), or reuses the store's copy when its recipe and
// checksums still match. `-- --force` rebuilds anyway; `-- --changelog "what changed"` gives a
// new build its changelog line. Every build is kept in the store (versions/<slug>/<key>/); the
// running portal registers new builds as numbered versions of the catalog images at its next
// start (`npm start`): a build with the same checksums as a registered version is that version.
import { LocalTransport } from "../lib/drivers/transport/local";
import { buildAllImages } from "../lib/drivers/images/build";
import { qemuCatalogImages } from "../lib/drivers/images/recipe";
import { imageStoreDir } from "../lib/env";

const force = process.argv.includes("--force");
const at = process.argv.indexOf("--changelog");
const changelog = at >= 0 ? process.argv[at + 1] : undefined;
if (at >= 0 && (!changelog || changelog.startsWith("--"))) {
  console.error('[images] --changelog needs a line of text: --changelog "what changed"');
  process.exit(2);
}
const started = Date.now();
const t = new LocalTransport();
try {
  const results = await buildAllImages(t, imageStoreDir, { log: (line) => console.log(`[images] ${line}`) }, { force, changelog });
  for (const r of results) {
    const files = Object.entries(r.manifest.files).map(([name, f]) => `${name} ${(f.size / 1048576).toFixed(1)} MiB sha256:${f.sha256.slice(0, 12)}`);
    console.log(`[images] ${r.slug}: ${r.reused ? "up to date" : "built"} (kernel ${r.manifest.kernelVersion}, build ${r.buildKey}) ${files.join(", ")}`);
  }
  const missing = qemuCatalogImages.filter((i) => !results.some((r) => r.slug === i.slug));
  // Not a failure: the other images are complete without it (the catalog offers what is built).
  for (const i of missing) console.log(`[images] ${i.slug}: NOT built (see the line above for what to install, then run this again); the other images do not need it`);
  console.log(`[images] store: ${imageStoreDir}; done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(`[images] build failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
