import { createHash } from "node:crypto";
import path from "node:path";
import type { Transport } from "../transport/types";
import { gzipCpio, parentDirs, type CpioEntry } from "./cpio";
import { digestFiles, fileDigest, must, readManifest, verifyManifest, writeManifest } from "./manifest";
import { busyboxPath, goldenDiskLabel, goldenDiskMb, guestModules, guestPrograms, initScript, kernelMetaPackage, kernelPackagePattern, qemuCatalogImages, recipeHash } from "./recipe";
import { lddLibraries } from "./ldd";
import { postgresLayer, postgresLayerFiles, postgresLayerHash, postgresMajor } from "./postgres";
import { cacheDir, goldenPaths } from "./store";
import { goldenFiles, type GoldenManifest, type ImageIo } from "./types";
import { keepBuild } from "./versions";

export { lddLibraries };

/** A Debian package the build needs is not installed on the build host (the message says which). */
export class MissingPackageError extends Error {}

/** True when the login user on the transport's host is root (asked there: the build may run over SSH). */
async function rootOn(t: Transport): Promise<boolean> {
  const r = await t.run(["id", "-u"]).catch(() => null);
  return r?.code === 0 && r.stdout.trim() === "0";
}

export type BuildResult = {
  slug: string;
  manifest: GoldenManifest;
  /** True when the store's copy matched the recipe and its checksums, so nothing was built. */
  reused: boolean;
  durationMs: number;
  /** The build's key in the store's versions/ (every build is kept there). */
  buildKey: string;
};

/** What the guest reads about the build it runs (/etc/portal-build in the initramfs): one build differs from the next. */
export function buildStamp(parts: { builtAt: string; kernelVersion: string; recipeHash: string }): string {
  return `PORTAL_IMAGE_BUILT=${parts.builtAt}\nPORTAL_IMAGE_KERNEL=${parts.kernelVersion}\nPORTAL_IMAGE_RECIPE=${parts.recipeHash.slice(0, 16)}\n`;
}

const artifactNames = [goldenFiles.kernel, goldenFiles.initramfs, goldenFiles.disk];

/**
 * The versioned kernel package behind `linux-image-amd64` (e.g. linux-image-6.1.0-56-amd64),
 * from `apt-cache depends`. When apt knows no such package and we are root, runs
 * `apt-get update` once and asks again.
 */
export async function kernelPackage(t: Transport, io: ImageIo): Promise<string> {
  const ask = async () => {
    const r = await t.run(["apt-cache", "depends", kernelMetaPackage], { timeoutMs: 60_000, signal: io.signal });
    const m = r.stdout.match(/Depends:\s*(linux-image-\S+-amd64)/);
    return r.code === 0 && m && kernelPackagePattern.test(m[1]!) ? m[1]! : null;
  };
  let pkg = await ask();
  if (!pkg && (await rootOn(t))) {
    await io.log(`apt does not know ${kernelMetaPackage}; running apt-get update`);
    await must(t, ["apt-get", "update"], "apt-get update", { timeoutMs: 300_000, signal: io.signal });
    pkg = await ask();
  }
  if (!pkg) throw new Error(`apt-cache names no kernel package for ${kernelMetaPackage}: run \`apt-get update\` as root, then build again`);
  return pkg;
}

/** The .deb of `pkg` in the store's cache, downloaded with `apt-get download` when missing. */
async function debFor(t: Transport, cache: string, pkg: string, io: ImageIo): Promise<string> {
  const find = async () => {
    const r = await t.run(["find", "-H", cache, "-maxdepth", "1", "-name", `${pkg}_*_amd64.deb`], { signal: io.signal });
    return r.stdout.split("\n").filter(Boolean).sort().at(-1) ?? null;
  };
  const cached = await find();
  if (cached) {
    await io.log(`kernel package ${path.basename(cached)} from the cache`);
    return cached;
  }
  await io.log(`apt-get download ${pkg}`);
  const download = () => t.run(["env", "-C", cache, "apt-get", "download", pkg], { timeoutMs: 600_000, signal: io.signal });
  let r = await download();
  if (r.code !== 0 && (await rootOn(t))) {
    // Stale package lists name a version the mirror no longer has: refresh them once.
    await io.log(`apt-get download ${pkg} failed (${r.stderr.trim().split("\n").at(-1) ?? ""}); running apt-get update and trying again`);
    await must(t, ["apt-get", "update"], "apt-get update", { timeoutMs: 300_000, signal: io.signal });
    r = await download();
  }
  if (r.code !== 0) throw new Error(`apt-get download ${pkg} failed: ${r.stderr.trim().split("\n").slice(-2).join(" | ") || `exit ${r.code}`}`);
  const got = await find();
  if (!got) throw new Error(`apt-get download ${pkg} left no .deb in ${cache}`);
  return got;
}

/** A file the guest's Debian programs need: a program, or a shared library it loads. */
type ProgramFile = { path: string; data: Buffer; sha256: string };

/** `guestPrograms` and every library they load, read from the build host (each file once). */
async function guestProgramFiles(t: Transport, signal?: AbortSignal): Promise<ProgramFile[]> {
  const files = new Map<string, ProgramFile>();
  const add = async (file: string, whenMissing: string) => {
    if (files.has(file)) return;
    const data = await t.readFile(file);
    if (!data) throw new Error(whenMissing);
    files.set(file, { path: file, data, sha256: createHash("sha256").update(data).digest("hex") });
  };
  for (const program of guestPrograms) {
    await add(program.path, `${program.path} not found: install the Debian package ${program.pkg}`);
    const r = await t.run(["ldd", program.path], { signal });
    const { libraries, missing } = lddLibraries(r.stdout);
    if (missing.length) throw new Error(`${program.path} needs ${missing.join(", ")}, not installed on the build host: reinstall ${program.pkg}`);
    if (r.code !== 0 || libraries.length === 0) throw new Error(`ldd ${program.path} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    for (const lib of libraries) await add(lib, `${lib} (loaded by ${program.path}) is not readable on the build host`);
  }
  return [...files.values()];
}

/**
 * The initramfs: busybox, the modules, the Debian programs with their libraries, /init, the
 * build's stamp (/etc/portal-build), and /dev/console for the first console.
 */
async function initramfs(t: Transport, modulesDir: string, programs: readonly ProgramFile[], stamp: string): Promise<Buffer> {
  const busybox = await t.readFile(busyboxPath);
  if (!busybox) throw new Error(`${busyboxPath} not found: install the Debian package busybox-static`);
  const files: CpioEntry[] = [
    { type: "file", path: "init", data: initScript, mode: 0o755 },
    { type: "file", path: "etc/portal-build", data: stamp, mode: 0o644 },
    { type: "file", path: "bin/busybox", data: busybox, mode: 0o755 },
    { type: "symlink", path: "bin/sh", target: "busybox" },
    // Programs and libraries alike executable: the kernel runs the dynamic loader as a program.
    ...programs.map((p): CpioEntry => ({ type: "file", path: p.path.replace(/^\/+/, ""), data: p.data, mode: 0o755 })),
  ];
  for (const m of guestModules) {
    const data = await t.readFile(path.join(modulesDir, m.path));
    if (!data) throw new Error(`kernel module ${m.path} is missing from the kernel package`);
    files.push({ type: "file", path: `lib/modules/${m.name}.ko`, data });
  }
  const dirs = new Set([...parentDirs(files.map((f) => f.path)), "dev", "proc", "sys", "run", "tmp", "etc", "root", "portal", "data"]);
  return gzipCpio([
    ...[...dirs].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b)).map((d): CpioEntry => ({ type: "dir", path: d })),
    { type: "char", path: "dev/console", major: 5, minor: 1 },
    ...files,
  ]);
}

/**
 * Puts a finished build (its files in `dir`) in place of the image's golden image and keeps it as
 * a build; the build it replaces stays in versions/ (kept when it was built or registered).
 */
async function installBuild(t: Transport, store: string, io: ImageIo, build: { slug: string; dir: string; manifest: GoldenManifest }) {
  const { slug, manifest } = build;
  const golden = goldenPaths(store, slug);
  await writeManifest(t, build.dir, manifest);
  await must(t, ["rm", "-rf", golden.dir], "replacing the old golden image");
  await must(t, ["mv", build.dir, golden.dir], "installing the golden image");
  const buildKey = await keepBuild(t, store, golden.dir, manifest);
  await io.log(`golden image ${slug}: ${Object.entries(manifest.files).map(([n, f]) => `${n} ${f.size} bytes`).join(", ")}; kept as build ${buildKey}`);
  return { slug, manifest, reused: false, buildKey };
}

/**
 * Builds the golden image `slug` into `<store>/golden/<slug>/` (vmlinuz, initramfs.cpio.gz,
 * disk.qcow2, manifest.json), or reuses the store's copy when its recipe hash and every
 * checksum in its manifest still match. Works without KVM and without any network but
 * Debian's package mirror. The other catalog slugs of the recipe get hard links of the same
 * files with their own manifest (one build, several disk modes). Every build is also kept in
 * `<store>/versions/<slug>/<build key>/` (./versions.ts), where older versions stay when a
 * newer build replaces the golden folder; `changelog` (one line) goes into a new build's
 * manifest, for the version registration makes of it.
 */
export async function buildGoldenImage(t: Transport, store: string, io: ImageIo, opts: { slug?: string; force?: boolean; changelog?: string } = {}): Promise<BuildResult> {
  const started = Date.now();
  const slug = opts.slug ?? qemuCatalogImages[0]!.slug;
  const golden = goldenPaths(store, slug);
  const cache = cacheDir(store);
  await must(t, ["mkdir", "-p", cache, path.dirname(golden.dir)], "creating the image store");

  const pkg = await kernelPackage(t, io);
  const busybox = await fileDigest(t, busyboxPath, io.signal).catch(() => {
    throw new Error(`${busyboxPath} not found: install the Debian package busybox-static`);
  });
  const programs = await guestProgramFiles(t, io.signal);
  const hash = recipeHash({ kernelPackage: pkg, busyboxSha256: busybox.sha256, programs: Object.fromEntries(programs.map((p) => [p.path, p.sha256])) });

  const existing = await readManifest<GoldenManifest>(t, golden.dir);
  if (!opts.force && existing && existing.recipeHash === hash) {
    const problems = await verifyManifest(t, golden.dir, existing, io.signal);
    if (problems.length === 0) {
      await io.log(`golden image ${slug} is up to date (kernel ${existing.kernelVersion}, checksums match)${opts.changelog ? "; the changelog is for a new build (--force builds one)" : ""}`);
      const buildKey = await keepBuild(t, store, golden.dir, existing);
      return { slug, manifest: existing, reused: true, durationMs: Date.now() - started, buildKey };
    }
    await io.log(`golden image ${slug} does not match its manifest (${problems.join("; ")}); rebuilding`);
  } else if (existing && !opts.force) {
    await io.log(`golden image ${slug} was built from another recipe; rebuilding`);
  }

  const deb = await debFor(t, cache, pkg, io);
  const tree = path.join(cache, `tree-${process.pid}-${Date.now()}`);
  const building = `${golden.dir}.building-${process.pid}`;
  try {
    await io.log(`unpacking ${path.basename(deb)} (dpkg-deb -x)`);
    await must(t, ["dpkg-deb", "-x", deb, tree], `dpkg-deb -x ${path.basename(deb)}`, { signal: io.signal });
    const versions = await must(t, ["find", path.join(tree, "lib", "modules"), "-mindepth", "1", "-maxdepth", "1", "-type", "d", "-printf", "%f\n"], "listing kernel versions");
    const kernelVersion = versions.stdout.split("\n").filter(Boolean)[0];
    if (!kernelVersion) throw new Error(`${path.basename(deb)} has no /lib/modules/<version>`);

    await must(t, ["rm", "-rf", building], "clearing a stale build");
    await must(t, ["mkdir", "-p", building], "creating the build folder");
    await must(t, ["cp", path.join(tree, "boot", `vmlinuz-${kernelVersion}`), path.join(building, goldenFiles.kernel)], "copying the kernel");
    await io.log(
      `kernel ${kernelVersion}; building the initramfs (busybox-static, ${guestModules.length} modules, ${guestPrograms.map((p) => path.basename(p.path)).join(", ")} with ${programs.length - guestPrograms.length} libraries, /init)`,
    );
    // The build's time is in its initramfs: each build is a version of its own, which the guest can name.
    const builtAt = new Date().toISOString();
    await t.writeFile(path.join(building, goldenFiles.initramfs), await initramfs(t, path.join(tree, "lib", "modules", kernelVersion), programs, buildStamp({ builtAt, kernelVersion, recipeHash: hash })));

    // The golden disk: a labelled raw image converted to qcow2 (clones overlay it, copies copy it).
    const raw = path.join(building, "disk.raw");
    await t.writeFile(raw, `${goldenDiskLabel} slug=${slug} kernel=${kernelVersion} recipe=${hash.slice(0, 16)}\n`);
    await must(t, ["truncate", "-s", `${goldenDiskMb}M`, raw], "sizing the golden disk");
    await must(t, ["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, path.join(building, goldenFiles.disk)], "qemu-img convert (golden disk)");
    await must(t, ["rm", "-f", raw], "removing the raw disk");

    const changelog = opts.changelog?.replace(/\s+/g, " ").trim().slice(0, 500);
    const manifest: GoldenManifest = {
      slug,
      kernelVersion,
      recipeHash: hash,
      builtAt,
      files: await digestFiles(t, building, artifactNames, io.signal),
      ...(changelog ? { changelog } : {}),
    };
    return { ...(await installBuild(t, store, io, { slug, dir: building, manifest })), durationMs: Date.now() - started };
  } finally {
    await t.run(["rm", "-rf", tree, building]).catch(() => undefined);
  }
}

/**
 * Builds (or reuses) the recipe's golden image once and gives every catalog image of the
 * recipe its folder: hard links of the same files and a manifest with its own slug.
 */
export async function buildAllImages(t: Transport, store: string, io: ImageIo, opts: { force?: boolean; changelog?: string } = {}): Promise<BuildResult[]> {
  const [first, ...others] = qemuCatalogImages;
  const base = await buildGoldenImage(t, store, io, { slug: first!.slug, force: opts.force, changelog: opts.changelog });
  const results = [base];
  const from = goldenPaths(store, base.slug);
  for (const image of others.filter((i) => i.layer)) {
    try {
      results.push(await buildLayeredImage(t, store, io, base, image.slug, opts));
    } catch (err) {
      if (!(err instanceof MissingPackageError)) throw err;
      // The other images do not need it: say what to install and go on without this one.
      await io.log(`golden image ${image.slug} NOT built: ${err.message}`);
    }
  }
  for (const image of others.filter((i) => !i.layer)) {
    const started = Date.now();
    const to = goldenPaths(store, image.slug);
    const existing = await readManifest<GoldenManifest>(t, to.dir);
    if (existing && existing.recipeHash === base.manifest.recipeHash && (await verifyManifest(t, to.dir, existing, io.signal)).length === 0 &&
        artifactNames.every((n) => existing.files[n]?.sha256 === base.manifest.files[n]?.sha256)) {
      results.push({ slug: image.slug, manifest: existing, reused: true, durationMs: Date.now() - started, buildKey: await keepBuild(t, store, to.dir, existing) });
      continue;
    }
    await must(t, ["rm", "-rf", to.dir], "replacing a golden image");
    await must(t, ["mkdir", "-p", to.dir], "creating a golden image folder");
    for (const name of artifactNames) await must(t, ["ln", path.join(from.dir, name), path.join(to.dir, name)], `linking ${name}`);
    const manifest: GoldenManifest = { ...base.manifest, slug: image.slug };
    await writeManifest(t, to.dir, manifest);
    await io.log(`golden image ${image.slug}: same files as ${base.slug}`);
    results.push({ slug: image.slug, manifest, reused: false, durationMs: Date.now() - started, buildKey: await keepBuild(t, store, to.dir, manifest) });
  }
  return results;
}

/**
 * The database image `slug`: the base image's kernel and disk (hard links) and its initramfs
 * followed by the PostgreSQL layer (./postgres.ts). Reused while the base image's recipe and
 * every file of the layer are unchanged. Fails with a MissingPackageError naming the package
 * when PostgreSQL is not installed on the build host.
 */
export async function buildLayeredImage(t: Transport, store: string, io: ImageIo, base: BuildResult, slug: string, opts: { force?: boolean } = {}): Promise<BuildResult> {
  const started = Date.now();
  const inBase = new Set((await guestProgramFiles(t, io.signal)).map((f) => f.path));
  const files = await postgresLayerFiles(t, inBase, io.signal).catch((err: Error) => {
    throw /install the Debian package|not installed on the build host/.test(err.message) ? new MissingPackageError(err.message) : err;
  });
  const hash = postgresLayerHash(base.manifest.recipeHash, files);
  const golden = goldenPaths(store, slug);
  const existing = await readManifest<GoldenManifest>(t, golden.dir);
  if (!opts.force && existing && existing.recipeHash === hash && (await verifyManifest(t, golden.dir, existing, io.signal)).length === 0) {
    await io.log(`golden image ${slug} is up to date (PostgreSQL ${postgresMajor} layer, checksums match)`);
    return { slug, manifest: existing, reused: true, durationMs: Date.now() - started, buildKey: await keepBuild(t, store, golden.dir, existing) };
  }
  const from = goldenPaths(store, base.slug);
  const baseInitramfs = await t.readFile(from.initramfs);
  if (!baseInitramfs) throw new Error(`the base image ${base.slug} has no initramfs in ${from.dir}`);
  const layer = postgresLayer(files);
  const bytes = files.reduce((n, f) => n + f.data.length, 0);
  await io.log(`${slug}: PostgreSQL ${postgresMajor} layer of ${files.length} files (${(bytes / 1048576).toFixed(1)} MiB, ${(layer.length / 1048576).toFixed(1)} MiB compressed) after the base initramfs`);
  const building = `${golden.dir}.building-${process.pid}`;
  try {
    await must(t, ["rm", "-rf", building], "clearing a stale build");
    await must(t, ["mkdir", "-p", building], "creating the build folder");
    for (const name of [goldenFiles.kernel, goldenFiles.disk]) await must(t, ["ln", path.join(from.dir, name), path.join(building, name)], `linking ${name}`);
    await t.writeFile(path.join(building, goldenFiles.initramfs), Buffer.concat([baseInitramfs, layer]));
    const manifest: GoldenManifest = {
      slug,
      kernelVersion: base.manifest.kernelVersion,
      recipeHash: hash,
      builtAt: new Date().toISOString(),
      files: await digestFiles(t, building, artifactNames, io.signal),
    };
    return { ...(await installBuild(t, store, io, { slug, dir: building, manifest })), durationMs: Date.now() - started };
  } finally {
    await t.run(["rm", "-rf", building]).catch(() => undefined);
  }
}
