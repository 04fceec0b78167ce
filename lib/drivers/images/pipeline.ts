import path from "node:path";
import type { Transport } from "../transport/types";
import { StepError } from "../types";
import { buildGoldenImage } from "./build";
import { digestFiles, must, readManifest, verifyManifest, writeManifest } from "./manifest";
import { buildKeyOf, goldenPaths, packedDir, versionPaths } from "./store";
import { keepBuild } from "./versions";
import { goldenFiles, type GoldenManifest, type GuestArtifacts, type ImageIo, type ImageRef, type PackManifest } from "./types";

/**
 * mk_image and the unpack step of mk_virtual, for real, on a host reached through a
 * Transport. The driver calls, in this order:
 *
 *   resolveImage(t, store, image, stagingDir, io)  -> the environment's disk + boot files in stagingDir
 *   packImage(t, store, key, stagingDir, image.source, io) -> <store>/packed/<key>/ with manifest.json
 *   unpackImage(t, store, key, guestDir, io)        -> GuestArtifacts in guestDir, checksums verified
 *
 * Each is idempotent (delivery is at least once): it checks for its finished output first.
 * Failures a customer may read are StepErrors ("checksum mismatch in disk.qcow2 ...").
 */

const bootFiles = [goldenFiles.kernel, goldenFiles.initramfs] as const;
const stagedFiles = [goldenFiles.kernel, goldenFiles.initramfs, goldenFiles.disk] as const;

function artifactsIn(dir: string): GuestArtifacts {
  return { dir, kernel: path.join(dir, goldenFiles.kernel), initramfs: path.join(dir, goldenFiles.initramfs), disk: path.join(dir, goldenFiles.disk) };
}

async function exists(t: Transport, file: string): Promise<boolean> {
  return (await t.run(["test", "-e", file])).code === 0;
}

/** Reads `qemu-img info` of a disk: virtual size and backing file. */
export async function diskInfo(t: Transport, file: string): Promise<{ virtualSize: number; actualSize: number; backingFile: string | null; format: string }> {
  const r = await must(t, ["qemu-img", "info", "--output=json", "-U", file], `qemu-img info ${path.basename(file)}`);
  const info = JSON.parse(r.stdout) as { "virtual-size": number; "actual-size"?: number; "backing-filename"?: string; "full-backing-filename"?: string; format: string };
  return { virtualSize: info["virtual-size"], actualSize: info["actual-size"] ?? 0, backingFile: info["full-backing-filename"] ?? info["backing-filename"] ?? null, format: info.format };
}

/**
 * The golden image of `image.slug`, checked against its manifest. An install-file image is
 * built from the recipe when the store has none; a clone or copy needs the golden image to
 * exist (`npm run images:build`). A golden file that no longer matches its manifest stops
 * the step: a clone of a damaged golden image would be damaged too.
 */
export async function goldenFor(t: Transport, store: string, image: ImageRef, io: ImageIo): Promise<{ paths: ReturnType<typeof goldenPaths>; manifest: GoldenManifest }> {
  if (image.build) {
    // A version of the image: its build as the store kept it, never rebuilt here.
    const paths = versionPaths(store, image.slug, image.build);
    let manifest = await readManifest<GoldenManifest>(t, paths.dir);
    if (!manifest) {
      // A host with an image store of its own (reached over SSH, filled by hand or before
      // versions were kept) may hold this very build as its golden image: kept as the version now.
      const golden = await readManifest<GoldenManifest>(t, goldenPaths(store, image.slug).dir);
      if (golden && golden.slug === image.slug && buildKeyOf(golden.files) === image.build) {
        await keepBuild(t, store, goldenPaths(store, image.slug).dir, golden);
        await io.log(`build ${image.build} of ${image.slug} is this store's golden image; kept under versions/ now`);
        manifest = await readManifest<GoldenManifest>(t, paths.dir);
      }
    }
    if (!manifest) throw new StepError(`build ${image.build} of image ${image.slug} is not in the image store (${paths.dir}); it was registered from another store, or removed`);
    const problems = await verifyManifest(t, paths.dir, manifest, io.signal);
    if (problems.length) throw new StepError(`build ${image.build} of image ${image.slug} does not match its manifest: ${problems.join("; ")}`);
    return { paths, manifest };
  }
  const paths = goldenPaths(store, image.slug);
  let manifest = await readManifest<GoldenManifest>(t, paths.dir);
  if (!manifest && image.source === "install-file") {
    await io.log(`no golden build of ${image.slug} in the image store; building it from the install recipe`);
    manifest = (await buildGoldenImage(t, store, io, { slug: image.slug })).manifest;
  }
  if (!manifest) throw new StepError(`image ${image.slug} is not built in the image store (${paths.dir}); run \`npm run images:build\``);
  const problems = await verifyManifest(t, paths.dir, manifest, io.signal);
  if (problems.length) throw new StepError(`golden image ${image.slug} does not match its manifest: ${problems.join("; ")}; rebuild it with \`npm run images:build\``);
  return { paths, manifest };
}

/**
 * mk_image "resolve": puts the environment's kernel, initramfs and disk into `stagingDir`:
 * - clone: a qcow2 overlay on the golden disk (`qemu-img create -f qcow2 -b golden -F qcow2`),
 * - copy: a full copy of the golden disk (`qemu-img convert -O qcow2`), grown to the flavor's size,
 * - install-file: a fresh empty disk of the flavor's size; boot files from the recipe's build.
 */
export async function resolveImage(t: Transport, store: string, image: ImageRef, stagingDir: string, io: ImageIo): Promise<GuestArtifacts> {
  const out = artifactsIn(stagingDir);
  const marker = path.join(stagingDir, "resolved.json");
  const done = await t.readFile(marker);
  if (done && (await Promise.all(stagedFiles.map((f) => exists(t, path.join(stagingDir, f))))).every(Boolean)) {
    const prior = JSON.parse(done.toString("utf8")) as { slug: string; source: string; build?: string | null };
    if (prior.slug === image.slug && prior.source === image.source && (prior.build ?? null) === (image.build ?? null)) {
      await io.log(`image ${image.slug} already resolved in ${stagingDir} (${image.source}); nothing to do`);
      return out;
    }
  }
  const { paths, manifest } = await goldenFor(t, store, image, io);
  await io.log(`golden image ${image.slug}: kernel ${manifest.kernelVersion}, checksums verified`);
  await must(t, ["mkdir", "-p", stagingDir], "creating the staging folder");
  for (const f of bootFiles) await must(t, ["cp", "-f", path.join(paths.dir, f), path.join(stagingDir, f)], `copying ${f}`);
  await must(t, ["rm", "-f", out.disk], "clearing a half-made disk");
  const size = `${image.diskGb}G`;
  if (image.source === "clone") {
    await io.log(`qemu-img create -f qcow2 -b ${paths.disk} -F qcow2 ${goldenFiles.disk} ${size} (copy-on-write clone)`);
    await must(t, ["qemu-img", "create", "-q", "-f", "qcow2", "-b", paths.disk, "-F", "qcow2", out.disk, size], "qemu-img create (overlay)", { signal: io.signal });
  } else if (image.source === "copy") {
    await io.log(`qemu-img convert -O qcow2 ${paths.disk} ${goldenFiles.disk} (full copy), resized to ${size}`);
    await must(t, ["qemu-img", "convert", "-q", "-O", "qcow2", paths.disk, out.disk], "qemu-img convert (full copy)", { signal: io.signal });
    await must(t, ["qemu-img", "resize", "-q", out.disk, size], "qemu-img resize", { signal: io.signal });
  } else {
    await io.log(`install file: fresh ${size} disk, kernel and initramfs from the recipe (kernel ${manifest.kernelVersion})`);
    await must(t, ["qemu-img", "create", "-q", "-f", "qcow2", out.disk, size], "qemu-img create (fresh disk)", { signal: io.signal });
  }
  await t.writeFile(marker, JSON.stringify({ slug: image.slug, source: image.source, build: image.build ?? null, at: new Date().toISOString() }));
  return out;
}

/**
 * mk_image "pack": the resolved image into `<store>/packed/<key>/` with a manifest of
 * sha256 checksums. A clone (a small overlay) is packed as one tar with its boot files; a
 * copy or install-file disk is compressed (`qemu-img convert -c -O qcow2`).
 */
export async function packImage(t: Transport, store: string, key: string, stagingDir: string, image: Pick<ImageRef, "slug" | "source">, io: ImageIo): Promise<PackManifest> {
  const dir = packedDir(store, key);
  const existing = await readManifest<PackManifest>(t, dir);
  if (existing && (await verifyManifest(t, dir, existing, io.signal)).length === 0) {
    await io.log(`image already packed for ${key} (${existing.format}, checksums match); nothing to do`);
    return existing;
  }
  const building = `${dir}.packing`;
  await must(t, ["rm", "-rf", building], "clearing a half-made pack");
  await must(t, ["mkdir", "-p", building], "creating the pack folder");
  let format: PackManifest["format"];
  let names: string[];
  if (image.source === "clone") {
    format = "tar";
    names = ["image.tar"];
    await io.log(`tar of the overlay and boot files -> packed/${key}/image.tar`);
    await must(t, ["tar", "-cf", path.join(building, "image.tar"), "-C", stagingDir, ...stagedFiles], "tar (pack)", { signal: io.signal });
  } else {
    format = "qcow2";
    names = [...stagedFiles];
    await io.log(`qemu-img convert -c -O qcow2 (compressed) -> packed/${key}/${goldenFiles.disk}`);
    await must(t, ["qemu-img", "convert", "-q", "-c", "-O", "qcow2", path.join(stagingDir, goldenFiles.disk), path.join(building, goldenFiles.disk)], "qemu-img convert -c (pack)", { signal: io.signal });
    for (const f of bootFiles) await must(t, ["cp", "-f", path.join(stagingDir, f), path.join(building, f)], `copying ${f}`);
  }
  const manifest: PackManifest = { slug: image.slug, source: image.source, format, packedAt: new Date().toISOString(), files: await digestFiles(t, building, names, io.signal) };
  await writeManifest(t, building, manifest);
  await must(t, ["rm", "-rf", dir], "replacing an old pack");
  await must(t, ["mv", building, dir], "installing the pack");
  const total = Object.values(manifest.files).reduce((n, f) => n + f.size, 0);
  await io.log(`packed ${image.slug} for ${key}: ${total} bytes, sha256 recorded for ${names.join(", ")}`);
  return manifest;
}

/**
 * mk_virtual "unpack": verifies every packed file against its manifest (a mismatch is a
 * StepError naming the file; nothing is unpacked), then unpacks into `guestDir`.
 */
export async function unpackImage(t: Transport, store: string, key: string, guestDir: string, io: ImageIo): Promise<GuestArtifacts> {
  const dir = packedDir(store, key);
  const out = artifactsIn(guestDir);
  const manifest = await readManifest<PackManifest>(t, dir);
  if (!manifest) throw new StepError(`no packed image for ${key} in the image store (mk_image pack did not finish)`);
  const problems = await verifyManifest(t, dir, manifest, io.signal);
  if (problems.length) throw new StepError(`checksum mismatch in the packed image of ${key}, refusing to unpack: ${problems.join("; ")}`);
  await io.log(`packed image of ${key} verified (sha256 of ${Object.keys(manifest.files).join(", ")})`);
  await must(t, ["mkdir", "-p", guestDir], "creating the guest folder");
  if (manifest.format === "tar") {
    await must(t, ["tar", "-xf", path.join(dir, "image.tar"), "-C", guestDir], "tar (unpack)", { signal: io.signal });
  } else {
    for (const f of stagedFiles) await must(t, ["cp", "-f", path.join(dir, f), path.join(guestDir, f)], `copying ${f}`, { signal: io.signal });
  }
  const info = await diskInfo(t, out.disk);
  await io.log(`unpacked into ${guestDir}: disk ${info.format}, ${info.virtualSize} bytes virtual${info.backingFile ? `, backing ${info.backingFile}` : ""}`);
  return out;
}

/** Removes what resolve/pack/unpack made for one environment (destroy); the golden image stays. */
export async function removeImageWork(t: Transport, store: string, key: string, dirs: readonly string[]): Promise<void> {
  await must(t, ["rm", "-rf", packedDir(store, key), `${packedDir(store, key)}.packing`, ...dirs], "removing the environment's image files");
}
