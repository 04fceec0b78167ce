/**
 * What the image library works with. lib/drivers/images is plain Node (no Next.js): the driver, the
 * worker, `npm run images:build`, the bench and the tests all call it. Every function reaches
 * files and programs through a Transport (lib/drivers/transport), so the same code runs on
 * this machine (LocalTransport) or on a registered host; the image store path is read through
 * that same transport.
 */

/** How an environment's disk comes from its image (images.source). */
export type ImageSource = "install-file" | "clone" | "copy";

/** The catalog image, as much as building an environment's disk needs. */
export type ImageRef = {
  /** Catalog slug, also the golden image's folder in the store (validated: [a-z0-9-]). */
  slug: string;
  source: ImageSource;
  /** Virtual size of the environment's disk, GiB (the flavor's disk). */
  diskGb: number;
  /**
   * The build to use (its key in `versions/<slug>/`): a version of the image kept in the store.
   * Absent: the newest build in `golden/<slug>/` (environments from before versions).
   */
  build?: string | null;
};

export type ImageIo = {
  log: (line: string) => Promise<void> | void;
  signal?: AbortSignal;
};

/** One file of a golden image or a packed image, as recorded in its manifest. */
export type ManifestFile = { sha256: string; size: number };

/** `manifest.json` of a golden image: what was built, from what, with which checksums. */
export type GoldenManifest = {
  slug: string;
  kernelVersion: string;
  /** sha256 of the recipe (kernel package, modules, init script, busybox): a changed recipe rebuilds. */
  recipeHash: string;
  builtAt: string;
  files: Record<string, ManifestFile>;
  /** One line on what changed (`npm run images:build -- --changelog "..."`); registration uses it for the new version. */
  changelog?: string;
};

/** `manifest.json` of a packed image (mk_image's output): unpack verifies every file against it. */
export type PackManifest = {
  slug: string;
  source: ImageSource;
  /** "tar" (a qcow2 overlay and the boot files in one tar) or "qcow2" (compressed full disk + boot files). */
  format: "tar" | "qcow2";
  packedAt: string;
  files: Record<string, ManifestFile>;
};

/** Where an environment's boot files and disk are once unpacked on its host. */
export type GuestArtifacts = {
  dir: string;
  /** Kernel (bzImage). */
  kernel: string;
  /** The golden initramfs; the driver appends the glue archive to it for the guest's own initrd. */
  initramfs: string;
  /** The environment's own qcow2 disk (an overlay on the golden disk for clones). */
  disk: string;
};

/** The golden artifacts' file names inside `<store>/golden/<slug>/`. */
export const goldenFiles = {
  kernel: "vmlinuz",
  initramfs: "initramfs.cpio.gz",
  disk: "disk.qcow2",
  manifest: "manifest.json",
} as const;
