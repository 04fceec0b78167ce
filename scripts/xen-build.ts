// `npm run xen:build`: builds the Xen test host image (Xen 4.17 hypervisor, Debian kernel, a
// debootstrap dom0 with the matching Xen tools, lvm2, bridge-utils and sshd, our dom0 init, and
// the Linux test guest for Xen) from Debian packages only, as a compressed qcow2 base in
// XEN_IMAGE_CACHE (default /var/cache/portal-xen), or says it is up to date. Needs root and
// the Debian mirror. `-- --force` rebuilds anyway. See scripts/xen/image.ts and build-host.sh.
import { ensureXenImage, xenImageFiles } from "./xen/image";
import { statSync } from "node:fs";
import path from "node:path";

const started = Date.now();
try {
  const image = await ensureXenImage((line) => console.log(line), { force: process.argv.includes("--force") });
  const sizes = xenImageFiles.map((f) => `${f} ${(statSync(path.join(image.dir, f)).size / 1048576).toFixed(1)} MiB`).join(", ");
  console.log(`[xen:build] ${image.reused ? "up to date" : "built"}: Xen ${image.xenVersion}, ${image.kernelPackage}; ${sizes}; ${(image.bytes / 1048576).toFixed(0)} MiB in ${image.dir}`);
  console.log(`[xen:build] ${image.reused ? `built ${image.builtAt} in ${image.buildSeconds} s; checked` : "done"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(`[xen:build] failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
